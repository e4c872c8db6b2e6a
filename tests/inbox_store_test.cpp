// What an inbox holder keeps: retries held once, bounds per recipient and per
// sender, acknowledgement, expiry, a restart on RocksDB, and damaged or
// hostile input refused.
#include "dht/inbox_store.h"

#include "storage/memory_store.h"
#include "storage/rocks_store.h"
#include "testing/test_util.h"

#include "tests/doctest.h"

using namespace dhtalk;

namespace {

InboxMessage message(const std::string& sender, const std::string& id, std::string body = "ciphertext",
                     int64_t expires_ms = 1'000'000) {
    InboxMessage m;
    m.recipient = "bob";
    m.sender = sender;
    m.id = id;
    m.sent_ms = 1000;
    m.expires_ms = expires_ms;
    m.body = std::move(body);
    return m;
}

std::vector<std::string> ids_of(const std::vector<InboxMessage>& messages) {
    std::vector<std::string> ids;
    for (const auto& m : messages) ids.push_back(m.sender + "/" + m.id);
    return ids;
}

}  // namespace

TEST_CASE("a held message is pending until acknowledged, and a retry is held once") {
    MemoryStore store;
    InboxStore inbox(store, {});
    REQUIRE(inbox.hold(message("alice", "m1")).value() == InboxStore::Held::kNew);
    REQUIRE(inbox.hold(message("alice", "m2")).value() == InboxStore::Held::kNew);
    REQUIRE(inbox.hold(message("carol", "m1")).value() == InboxStore::Held::kNew);
    // The same sender and id again, even with other bytes: the first stands.
    CHECK(inbox.hold(message("alice", "m1", "other bytes")).value() == InboxStore::Held::kAlready);
    CHECK(inbox.usage_of("bob").messages == 3);
    CHECK(inbox.usage_of_pair("alice", "bob").messages == 2);

    auto pending = inbox.pending("bob", 10).value();
    CHECK(ids_of(pending) == std::vector<std::string>{"alice/m1", "alice/m2", "carol/m1"});
    CHECK(pending[0] == message("alice", "m1"));
    CHECK(inbox.pending("bob", 2).value().size() == 2);
    CHECK(inbox.pending("nobody", 10).value().empty());

    REQUIRE(inbox.acknowledge("bob", "alice", "m1").is_ok());
    CHECK(inbox.acknowledge("bob", "alice", "m1").is_ok());  // again: nothing to do
    CHECK(inbox.acknowledge("bob", "alice", "never-sent").is_ok());
    CHECK(ids_of(inbox.pending("bob", 10).value()) == std::vector<std::string>{"alice/m2", "carol/m1"});
    CHECK(inbox.usage_of("bob").messages == 2);
    CHECK(inbox.total().bytes == 2 * std::string("ciphertext").size());
}

TEST_CASE("a copy that comes after its acknowledgement is not held again, within the memory's bound") {
    MemoryStore store;
    InboxStore inbox(store, {});
    // Acknowledged before this holder had it (the sender's second holder is
    // asked after the first passed the message on), and after (a replay).
    REQUIRE(inbox.acknowledge("bob", "alice", "early").is_ok());
    CHECK(inbox.hold(message("alice", "early")).value() == InboxStore::Held::kAlready);
    REQUIRE(inbox.hold(message("alice", "late")).value() == InboxStore::Held::kNew);
    REQUIRE(inbox.acknowledge("bob", "alice", "late").is_ok());
    CHECK(inbox.hold(message("alice", "late")).value() == InboxStore::Held::kAlready);
    CHECK(inbox.pending("bob", 10).value().empty());
    CHECK(inbox.usage_of("bob").messages == 0);
    // Another recipient's message of the same sender and id is its own.
    InboxMessage to_carol = message("alice", "early");
    to_carol.recipient = "carol";
    CHECK(inbox.hold(to_carol).value() == InboxStore::Held::kNew);

    // The memory is bounded: the oldest acknowledgement goes first.
    for (size_t i = 0; i < InboxStore::kAcknowledgedMemory - 1; ++i)
        REQUIRE(inbox.acknowledge("bob", "dave", "m" + std::to_string(i)).is_ok());
    CHECK(inbox.hold(message("alice", "early")).value() == InboxStore::Held::kNew);
    CHECK(inbox.hold(message("alice", "late")).value() == InboxStore::Held::kAlready);
}

TEST_CASE("one sender cannot fill another's inbox, and a refusal loses nothing held") {
    MemoryStore store;
    InboxLimits limits;
    limits.max_messages_per_pair = 2;
    limits.max_messages_per_recipient = 3;
    limits.max_bytes_per_pair = 1000;
    InboxStore inbox(store, limits);
    REQUIRE(inbox.hold(message("alice", "1")).is_ok());
    REQUIRE(inbox.hold(message("alice", "2")).is_ok());
    auto third = inbox.hold(message("alice", "3"));
    REQUIRE(third.status().code() == Code::kResourceExhausted);
    CHECK(third.status().message().find("your messages") != std::string::npos);
    // Another sender still gets through, up to the recipient's own bound.
    REQUIRE(inbox.hold(message("carol", "1")).is_ok());
    auto full = inbox.hold(message("dave", "1"));
    REQUIRE(full.status().code() == Code::kResourceExhausted);
    CHECK(full.status().message().find("inbox is full") != std::string::npos);
    CHECK(inbox.pending("bob", 10).value().size() == 3);
    // Reading makes room.
    REQUIRE(inbox.acknowledge("bob", "alice", "1").is_ok());
    CHECK(inbox.hold(message("alice", "3")).is_ok());

    SUBCASE("bytes count too") {
        MemoryStore s2;
        InboxLimits by_bytes;
        by_bytes.max_bytes_per_pair = 15;
        InboxStore small(s2, by_bytes);
        REQUIRE(small.hold(message("alice", "1", "0123456789")).is_ok());
        CHECK(small.hold(message("alice", "2", "0123456789")).status().code() == Code::kResourceExhausted);
        CHECK(small.hold(message("carol", "1", "0123456789")).is_ok());
    }
}

TEST_CASE("hostile messages and ids are refused before anything is written") {
    MemoryStore store;
    InboxLimits limits;
    limits.max_message_bytes = 100;
    InboxStore inbox(store, limits);
    auto refused = [&](InboxMessage m) { return inbox.hold(m).status().code() == Code::kInvalidArgument; };
    CHECK(refused(message("alice", "")));
    CHECK(refused(message("alice", "../../etc")));
    CHECK(refused(message("alice", "a/b")));
    CHECK(refused(message("alice", std::string(65, 'x'))));
    CHECK(refused(message("ali ce", "1")));
    CHECK(refused(message("", "1")));
    CHECK(refused(message("alice", "1", "")));
    CHECK(refused(message("alice", "1", std::string(101, 'x'))));
    CHECK(refused(message("alice", "1", "x", 0)));
    CHECK(refused(message("alice", "1", "x", -5)));
    auto no_recipient = message("alice", "1");
    no_recipient.recipient = "bob/alice";
    CHECK(refused(no_recipient));
    CHECK(inbox.hold(message("alice", std::string(64, 'x'), std::string(100, 'y'))).is_ok());  // at the bounds
    CHECK(inbox.total().messages == 1);
    CHECK(inbox.acknowledge("bob", "alice", "../x").code() == Code::kInvalidArgument);
    CHECK(inbox.pending("../", 10).value().empty());
}

TEST_CASE("expired messages are dropped everywhere and handed back once, earliest first") {
    MemoryStore store;
    InboxStore inbox(store, {});
    REQUIRE(inbox.hold(message("alice", "late", "x", 5000)).is_ok());
    REQUIRE(inbox.hold(message("alice", "early", "x", 2000)).is_ok());
    REQUIRE(inbox.hold(message("carol", "mid", "x", 3000)).is_ok());
    CHECK(inbox.expire(1999, 10).value().empty());
    auto gone = inbox.expire(3000, 10).value();
    CHECK(ids_of(gone) == std::vector<std::string>{"alice/early", "carol/mid"});
    CHECK(inbox.expire(3000, 10).value().empty());
    CHECK(ids_of(inbox.pending("bob", 10).value()) == std::vector<std::string>{"alice/late"});
    CHECK(inbox.usage_of_pair("carol", "bob").messages == 0);
    // At most `max` at a time.
    REQUIRE(inbox.hold(message("dave", "1", "x", 4000)).is_ok());
    CHECK(inbox.expire(10000, 1).value().size() == 1);
    CHECK(inbox.expire(10000, 10).value().size() == 1);
    CHECK(inbox.total().messages == 0);
    // An acknowledged message leaves no expiry behind.
    REQUIRE(inbox.hold(message("alice", "read", "x", 7000)).is_ok());
    REQUIRE(inbox.acknowledge("bob", "alice", "read").is_ok());
    CHECK(inbox.expire(10000, 10).value().empty());
    size_t index_entries = 0;
    REQUIRE(store.scan(InboxStore::kExpiryPrefix, [&](std::string_view, std::string_view) { return ++index_entries; }).is_ok());
    CHECK(index_entries == 0);
}

TEST_CASE("a holder that restarts keeps its messages and its bounds, and skips damaged records") {
    test::TempDir dir;
    InboxLimits limits;
    limits.max_messages_per_pair = 2;
    {
        auto store = RocksStore::open(dir / "db").value();
        InboxStore inbox(*store, limits);
        REQUIRE(inbox.hold(message("alice", "1")).is_ok());
        REQUIRE(inbox.hold(message("alice", "2")).is_ok());
        REQUIRE(inbox.hold(message("carol", "1", "x", 2000)).is_ok());
        REQUIRE(inbox.sync().is_ok());
        // Damage: bytes that are no record, and a record filed under another key.
        REQUIRE(store->put("ib/bob/mallory/1", "not msgpack").is_ok());
        auto misfiled = store->get("ib/bob/alice/1").value();
        REQUIRE(store->put("ib/bob/mallory/2", misfiled).is_ok());
    }
    auto store = RocksStore::open(dir / "db").value();
    InboxStore inbox(*store, limits);
    auto loaded = inbox.load().value();
    CHECK(loaded.messages == 3);
    CHECK(loaded.skipped == 2);
    CHECK(ids_of(inbox.pending("bob", 10).value()) == std::vector<std::string>{"alice/1", "alice/2", "carol/1"});
    CHECK(inbox.hold(message("alice", "3")).status().code() == Code::kResourceExhausted);  // still counted
    CHECK(ids_of(inbox.expire(5000, 10).value()) == std::vector<std::string>{"carol/1"});
}

TEST_CASE("a damaged record whose time is up is cleared without being handed back") {
    MemoryStore store;
    InboxStore inbox(store, {});
    REQUIRE(inbox.hold(message("alice", "1", "x", 2000)).is_ok());
    REQUIRE(store.put("ib/bob/alice/1", "damaged").is_ok());
    CHECK(inbox.expire(3000, 10).value().empty());
    size_t left = 0;
    REQUIRE(store.scan("i", [&](std::string_view, std::string_view) { return ++left; }).is_ok());
    CHECK(left == 0);
}
