// The Store contract, run against both implementations, and what only the
// RocksDB store promises: persistence across reopen, one process at a time.
#include "storage/memory_store.h"
#include "storage/rocks_store.h"
#include "testing/test_util.h"

#include "tests/doctest.h"

using namespace dhtalk;

namespace {

struct MemoryFactory {
    std::unique_ptr<Store> make() { return std::make_unique<MemoryStore>(); }
};

struct RocksFactory {
    test::TempDir dir;
    std::unique_ptr<Store> make() {
        auto s = RocksStore::open(dir / "db");
        REQUIRE(s.is_ok());
        return std::move(s).value();
    }
};

std::vector<std::string> keys_under(const Store& store, std::string_view prefix) {
    std::vector<std::string> keys;
    CHECK(store.scan(prefix, [&](std::string_view k, std::string_view) {
        keys.emplace_back(k);
        return true;
    }).is_ok());
    return keys;
}

}  // namespace

TEST_CASE_TEMPLATE("Store contract", Factory, MemoryFactory, RocksFactory) {
    Factory factory;
    auto store = factory.make();

    SUBCASE("get of a missing key is kNotFound") {
        CHECK(store->get("nope").status().code() == Code::kNotFound);
    }
    SUBCASE("put then get, overwrite, erase") {
        REQUIRE(store->put("k", "v1").is_ok());
        CHECK(*store->get("k") == "v1");
        REQUIRE(store->put("k", "v2").is_ok());
        CHECK(*store->get("k") == "v2");
        REQUIRE(store->erase("k").is_ok());
        CHECK(store->get("k").status().code() == Code::kNotFound);
        CHECK(store->erase("k").is_ok());  // erasing a missing key is fine
    }
    SUBCASE("binary keys and values, including NUL bytes") {
        const std::string key("a\0b", 3), value("\0\xff\0", 3);
        REQUIRE(store->put(key, value).is_ok());
        CHECK(*store->get(key) == value);
        CHECK(store->get(std::string("a")).status().code() == Code::kNotFound);
    }
    SUBCASE("a batch applies every operation") {
        REQUIRE(store->put("x/old", "1").is_ok());
        WriteBatch b;
        b.put("x/a", "A");
        b.put("x/b", "B");
        b.erase("x/old");
        REQUIRE(store->write(b).is_ok());
        CHECK(keys_under(*store, "x/") == std::vector<std::string>{"x/a", "x/b"});
    }
    SUBCASE("scan sees one prefix, in key order, and stops when asked") {
        for (auto k : {"p/2", "p/1", "q/1", "p/3", "o/9"}) REQUIRE(store->put(k, "v").is_ok());
        CHECK(keys_under(*store, "p/") == std::vector<std::string>{"p/1", "p/2", "p/3"});
        int visited = 0;
        CHECK(store->scan("p/", [&](std::string_view, std::string_view) { return ++visited < 2; }).is_ok());
        CHECK(visited == 2);
        CHECK(keys_under(*store, "z/").empty());
    }
    SUBCASE("sync succeeds") { CHECK(store->sync().is_ok()); }
}

TEST_CASE("RocksStore keeps data across reopen and admits one process at a time") {
    test::TempDir dir;
    {
        auto s = RocksStore::open(dir / "db");
        REQUIRE(s.is_ok());
        REQUIRE((*s)->put("kept", "yes").is_ok());
        auto second = RocksStore::open(dir / "db");
        CHECK(second.status().code() == Code::kBusy);
    }
    auto s = RocksStore::open(dir / "db");
    REQUIRE(s.is_ok());
    CHECK(*(*s)->get("kept") == "yes");
}

TEST_CASE("RocksStore refuses a damaged database instead of starting empty") {
    test::TempDir dir;
    {
        auto s = RocksStore::open(dir / "db");
        REQUIRE(s.is_ok());
        REQUIRE((*s)->put("k", "v").is_ok());
    }
    // Overwrite the CURRENT file, which names the manifest.
    test::write_text(dir / "db" / "CURRENT", "MANIFEST-999999\n");
    auto s = RocksStore::open(dir / "db");
    CHECK_FALSE(s.is_ok());
}

TEST_CASE("MemoryStores given one pool keep one copy of an equal value, and only while one holds it") {
    auto pool = std::make_shared<ValuePool>();
    MemoryStore a(pool), b(pool);
    const std::string epoch(ValuePool::kMinPooledBytes, 'e'), small = "short";
    REQUIRE(a.put("ro/1", epoch));
    WriteBatch batch;
    batch.put("ro/1", epoch);
    batch.put("x", small);
    REQUIRE(b.write(batch));
    CHECK(pool->size() == 1);  // the short value is copied, not pooled
    CHECK(a.get("ro/1").value() == epoch);
    CHECK(b.get("ro/1").value() == epoch);
    REQUIRE(b.put("ro/1", std::string(ValuePool::kMinPooledBytes, 'f')));  // b's value changes, a's does not
    CHECK(a.get("ro/1").value() == epoch);
    CHECK(pool->size() == 2);
    REQUIRE(a.erase("ro/1"));
    CHECK(pool->size() == 1);  // no store holds the old value any more
}
