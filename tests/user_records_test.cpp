// The records a node keeps for its users, bounded per user in count and
// bytes, with usage that survives a restart.
#include "node/front/user_records.h"
#include "storage/memory_store.h"

#include "tests/doctest.h"

using namespace dhtalk;

namespace {

dht::InfoHash key_of(int i) { return dht::InfoHash::get("record-" + std::to_string(i)); }

}  // namespace

TEST_CASE("a user's records are bounded in count and bytes; others are not affected") {
    MemoryStore store;
    UserRecords records(store, RecordQuota{3, 1000});
    REQUIRE(records.keep_record("alice", key_of(1), std::string(100, 'a')).is_ok());
    REQUIRE(records.keep_record("alice", key_of(2), std::string(100, 'a')).is_ok());
    REQUIRE(records.keep_record("alice", key_of(3), std::string(100, 'a')).is_ok());
    auto fourth = records.keep_record("alice", key_of(4), std::string(10, 'a'));
    CHECK(fourth.code() == Code::kResourceExhausted);
    CHECK(fourth.message().find("limit") != std::string::npos);
    CHECK(records.find_record("alice", key_of(4)).status().code() == Code::kNotFound);
    // A replacement counts only its growth.
    REQUIRE(records.keep_record("alice", key_of(1), std::string(700, 'b')).is_ok());
    CHECK(records.keep_record("alice", key_of(2), std::string(201, 'b')).code() == Code::kResourceExhausted);
    CHECK(*records.find_record("alice", key_of(2)) == std::string(100, 'a'));  // unchanged
    CHECK(records.usage("alice").records == 3);
    CHECK(records.usage("alice").bytes == 900);
    // Another user has a quota of its own.
    CHECK(records.keep_record("bob", key_of(4), std::string(900, 'c')).is_ok());
    // Erasing frees room.
    REQUIRE(records.erase_record("alice", key_of(1)).is_ok());
    CHECK(records.usage("alice").records == 2);
    CHECK(records.usage("alice").bytes == 200);
    CHECK(records.keep_record("alice", key_of(4), std::string(700, 'd')).is_ok());
}

TEST_CASE("usage survives a restart, and every kept record is visited with its user") {
    MemoryStore store;
    {
        UserRecords records(store, RecordQuota{2, 1000});
        REQUIRE(records.keep_record("alice", key_of(1), "one").is_ok());
        REQUIRE(records.keep_record("alice", key_of(2), "two").is_ok());
    }
    UserRecords again(store, RecordQuota{2, 1000});
    CHECK(again.keep_record("alice", key_of(3), "three").code() == Code::kResourceExhausted);
    std::vector<std::string> seen;
    REQUIRE(again
                .for_each_record([&](const std::string& user, const dht::InfoHash& key, const std::string& envelope) {
                    CHECK(user == "alice");
                    CHECK((key == key_of(1) || key == key_of(2)));
                    seen.push_back(envelope);
                })
                .is_ok());
    CHECK(seen.size() == 2);
}

TEST_CASE("a damaged usage line is recounted from the records") {
    MemoryStore store;
    UserRecords records(store, RecordQuota{2, 1000});
    REQUIRE(records.keep_record("alice", key_of(1), "one").is_ok());
    REQUIRE(store.put("uu/alice", "garbage").is_ok());
    CHECK(records.usage("alice").records == 1);
    CHECK(records.usage("alice").bytes == 3);
    REQUIRE(records.keep_record("alice", key_of(2), "two").is_ok());
    CHECK(records.keep_record("alice", key_of(3), "three").code() == Code::kResourceExhausted);
}

TEST_CASE("over a lowered quota a user may still shrink, never grow") {
    MemoryStore store;
    {
        UserRecords generous(store, RecordQuota{10, 1000});
        REQUIRE(generous.keep_record("alice", key_of(1), std::string(600, 'a')).is_ok());
        REQUIRE(generous.keep_record("alice", key_of(2), std::string(300, 'a')).is_ok());
    }
    UserRecords strict(store, RecordQuota{1, 500});
    CHECK(strict.keep_record("alice", key_of(1), std::string(400, 'b')).is_ok());  // smaller: taken
    CHECK(strict.keep_record("alice", key_of(2), std::string(301, 'b')).code() == Code::kResourceExhausted);
    CHECK(strict.keep_record("alice", key_of(3), "new").code() == Code::kResourceExhausted);
}

TEST_CASE("records kept before quotas move to their user's place, counted") {
    MemoryStore store;
    REQUIRE(store.put("ur/" + key_of(1).toString(), "alice:one").is_ok());
    REQUIRE(store.put("ur/" + key_of(2).toString(), "bob:two").is_ok());
    REQUIRE(store.put("ur/" + key_of(3).toString(), "garbage").is_ok());
    UserRecords records(store);
    const size_t moved = records.migrate_legacy([](const std::string& envelope) -> std::optional<std::string> {
        const auto colon = envelope.find(':');
        if (colon == std::string::npos) return std::nullopt;
        return envelope.substr(0, colon);
    });
    CHECK(moved == 2);
    CHECK(*records.find_record("alice", key_of(1)) == "alice:one");
    CHECK(*records.find_record("bob", key_of(2)) == "bob:two");
    CHECK(records.usage("alice").records == 1);
    size_t left = 0;
    REQUIRE(store.scan("ur/", [&](std::string_view k, std::string_view) {
        left += k.find('/', 3) == std::string_view::npos;  // old layout
        return true;
    }).is_ok());
    CHECK(left == 0);
}
