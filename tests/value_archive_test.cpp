// The archive of stored DHT values: re-stamping across restarts and reboots,
// writing only what changed, and surviving damaged records.
#include "dht/value_archive.h"

#include <msgpack.hpp>
#include <opendht/value.h>

#include "storage/memory_store.h"

#include "tests/doctest.h"

using namespace dhtalk;
using namespace std::chrono;

namespace {

// A blob in the format of OpenDHT's Dht::exportValues(): [[created_steady_ns, value], ...].
struct Entry {
    SteadyTime created;
    uint64_t id;
    std::string text;
};

dht::Value make_value(uint64_t id, const std::string& text) {
    dht::Value v(reinterpret_cast<const uint8_t*>(text.data()), text.size());
    v.id = id;
    return v;
}

dht::Blob export_blob(const std::vector<Entry>& values) {
    msgpack::sbuffer buf;
    msgpack::packer<msgpack::sbuffer> pk(buf);
    pk.pack_array(values.size());
    for (const auto& e : values) {
        pk.pack_array(2);
        pk.pack(e.created.time_since_epoch().count());
        make_value(e.id, e.text).msgpack_pack(pk);
    }
    return dht::Blob(buf.data(), buf.data() + buf.size());
}

struct Decoded {
    int64_t created_ns;
    dht::Value value;
};

std::vector<Decoded> decode(const dht::Blob& blob) {
    auto h = msgpack::unpack(reinterpret_cast<const char*>(blob.data()), blob.size());
    std::vector<Decoded> out;
    for (const auto& e : h.get().via.array) {
        Decoded d;
        d.created_ns = e.via.array.ptr[0].as<int64_t>();
        d.value.msgpack_unpack(e.via.array.ptr[1]);
        out.push_back(std::move(d));
    }
    return out;
}

std::string record_key(const dht::InfoHash& h) {
    return std::string(ValueArchive::kPrefix) + std::string(reinterpret_cast<const char*>(h.data()), h.size());
}

}  // namespace

TEST_CASE("values come back with their age, across a restart and a reboot") {
    MemoryStore store;
    ManualClock clock;
    const auto key = dht::InfoHash::get("k1");
    {
        ValueArchive archive(store, clock);
        REQUIRE(archive.load().is_ok());
        const auto created = clock.now() - seconds(30);  // stored 30 s ago
        auto saved = archive.save({{key, export_blob({{created, 7, "hello"}})}});
        REQUIRE(saved.is_ok());
        CHECK(saved->keys_written == 1);
    }
    // The node is down for 60 s; after a reboot the steady clock has a new origin.
    ManualClock rebooted(SteadyTime(minutes(3)), clock.wall_now() + seconds(60));
    ValueArchive archive(store, rebooted);
    auto loaded = archive.load();
    REQUIRE(loaded.is_ok());
    CHECK(loaded->keys == 1);
    CHECK(loaded->value_count == 1);
    REQUIRE(loaded->values.size() == 1);
    CHECK(loaded->values[0].first == key);
    auto vals = decode(loaded->values[0].second);
    REQUIRE(vals.size() == 1);
    CHECK(vals[0].value.id == 7);
    CHECK(std::string(vals[0].value.data.begin(), vals[0].value.data.end()) == "hello");
    const auto age = rebooted.now().time_since_epoch() - nanoseconds(vals[0].created_ns);
    CHECK(duration_cast<milliseconds>(age).count() == doctest::Approx(90'000).epsilon(0.001));
}

TEST_CASE("only changed keys are written; vanished keys are erased") {
    MemoryStore store;
    ManualClock clock;
    ValueArchive archive(store, clock);
    REQUIRE(archive.load().is_ok());
    const auto a = dht::InfoHash::get("a"), b = dht::InfoHash::get("b");
    const auto t = clock.now();
    auto s1 = archive.save({{a, export_blob({{t, 1, "A"}})}, {b, export_blob({{t, 2, "B"}})}});
    REQUIRE(s1.is_ok());
    CHECK(s1->keys_written == 2);
    clock.advance(seconds(5));
    auto s2 = archive.save({{a, export_blob({{t, 1, "A"}})}, {b, export_blob({{t, 2, "B"}})}});
    REQUIRE(s2.is_ok());
    CHECK(s2->keys_written == 0);  // nothing changed
    auto s3 = archive.save({{a, export_blob({{t, 1, "A"}, {t, 3, "A2"}})}});
    REQUIRE(s3.is_ok());
    CHECK(s3->keys_written == 1);
    CHECK(s3->keys_erased == 1);
    CHECK(store.get(record_key(b)).status().code() == Code::kNotFound);
    ValueArchive reopened(store, clock);
    auto loaded = reopened.load();
    REQUIRE(loaded.is_ok());
    CHECK(loaded->keys == 1);
    CHECK(loaded->value_count == 2);
}

TEST_CASE("damaged records are skipped and counted; the rest still load") {
    MemoryStore store;
    ManualClock clock;
    {
        ValueArchive archive(store, clock);
        REQUIRE(archive.load().is_ok());
        REQUIRE(archive.save({{dht::InfoHash::get("good"), export_blob({{clock.now(), 1, "ok"}})}})
                    .is_ok());
    }
    auto bad_key = [](const char* name) { return record_key(dht::InfoHash::get(name)); };
    msgpack::sbuffer wrong_version;
    msgpack::pack(wrong_version, std::make_tuple(99u, std::vector<int>{}));
    msgpack::sbuffer bad_value;  // right version, but the value is not an OpenDHT value
    msgpack::pack(bad_value, std::make_tuple(1u, std::vector<std::tuple<int64_t, std::string>>{{0, "x"}}));
    msgpack::sbuffer array_bomb;  // declares 4 billion entries in 5 bytes
    {
        msgpack::packer<msgpack::sbuffer> pk(array_bomb);
        pk.pack_array(2);
        pk.pack(1u);
        pk.pack_array(0xFFFFFFFFu);
    }
    REQUIRE(store.put(bad_key("garbage"), "\xc1\xc1\xc1").is_ok());
    REQUIRE(store.put(bad_key("empty"), "").is_ok());
    REQUIRE(store.put(bad_key("version"), std::string(wrong_version.data(), wrong_version.size())).is_ok());
    REQUIRE(store.put(bad_key("value"), std::string(bad_value.data(), bad_value.size())).is_ok());
    REQUIRE(store.put(bad_key("bomb"), std::string(array_bomb.data(), array_bomb.size())).is_ok());
    REQUIRE(store.put(bad_key("huge"), std::string(ValueArchive::kMaxRecordBytes + 1, '\x90')).is_ok());
    REQUIRE(store.put(std::string(ValueArchive::kPrefix) + "short-key", "x").is_ok());

    ValueArchive archive(store, clock);
    auto loaded = archive.load();
    REQUIRE(loaded.is_ok());
    CHECK(loaded->keys == 1);
    CHECK(loaded->skipped_records == 7);
    REQUIRE(loaded->values.size() == 1);
    CHECK(loaded->values[0].first == dht::InfoHash::get("good"));
}

TEST_CASE("a value stamped in the future (clock set back) counts as created now") {
    MemoryStore store;
    ManualClock clock;
    {
        ValueArchive archive(store, clock);
        REQUIRE(archive.save({{dht::InfoHash::get("f"), export_blob({{clock.now() + hours(1), 1, "x"}})}})
                    .is_ok());
    }
    ValueArchive archive(store, clock);
    auto loaded = archive.load();
    REQUIRE(loaded.is_ok());
    REQUIRE(loaded->values.size() == 1);
    auto vals = decode(loaded->values[0].second);
    CHECK(vals[0].created_ns == clock.now().time_since_epoch().count());
}
