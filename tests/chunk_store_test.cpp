// The media chunks a holder keeps: named by their hash (a forged chunk is
// refused), bounded by the node's offer and each owner's quota, dropped when
// they expire, and counted again after a restart, damaged records skipped.
#include "crypto/signing.h"
#include "dht/chunk_store.h"
#include "storage/memory_store.h"
#include "testing/test_util.h"

#include "tests/doctest.h"

using namespace dhtalk;
using test::contains;

namespace {

std::string id_of(std::string_view bytes) { return crypto::to_hex(crypto::sha256(bytes)); }

}  // namespace

TEST_CASE("a holder keeps chunks by their hash, within its offer and each owner's quota") {
    MemoryStore disk;
    ChunkStore chunks(disk, {/*offer*/ 10000, /*quota*/ 6000});
    const std::string a(4000, 'a'), b(3000, 'b'), c(3001, 'c');
    CHECK(chunks.hold(id_of(a), "alice", 100, a).value() == ChunkStore::Held::kNew);
    CHECK(chunks.hold(id_of(a), "alice", 100, a).value() == ChunkStore::Held::kAlready);
    CHECK(chunks.get(id_of(a)).value() == a);
    CHECK(chunks.has(id_of(a)));

    // Refusals: a forged chunk, a bad id or owner, no expiry, the wrong size.
    CHECK(contains(chunks.hold(id_of(b), "alice", 100, c).status().message(), "do not match"));
    CHECK_FALSE(chunks.hold("ABCD", "alice", 100, b).is_ok());
    CHECK_FALSE(chunks.hold(id_of(b), "alice/../x", 100, b).is_ok());
    CHECK_FALSE(chunks.hold(id_of(b), "alice", 0, b).is_ok());
    CHECK_FALSE(chunks.hold(id_of(""), "alice", 100, "").is_ok());
    const std::string big(kMaxChunkBytes + 1, 'x');
    CHECK_FALSE(chunks.hold(id_of(big), "alice", 100, big).is_ok());
    CHECK(chunks.get(id_of(b)).status().code() == Code::kNotFound);

    // Alice's quota (6000) stops her third; Bob still has room, until the offer is full.
    auto over = chunks.hold(id_of(b), "alice", 100, b);
    CHECK(over.status().code() == Code::kResourceExhausted);
    CHECK(contains(over.status().message(), "quota"));
    CHECK(chunks.hold(id_of(b), "bob", 100, b).is_ok());
    auto full = chunks.hold(id_of(c), "carol", 100, c);
    CHECK(full.status().code() == Code::kResourceExhausted);
    CHECK(contains(full.status().message(), "full"));
    CHECK(chunks.total().bytes == 7000);
    CHECK(chunks.usage_of("alice").chunks == 1);

    // Expiry frees the space.
    CHECK(chunks.expire(99) == 0);
    CHECK(chunks.expire(100) == 2);
    CHECK(chunks.total().bytes == 0);
    CHECK(chunks.hold(id_of(c), "carol", 200, c).is_ok());
    CHECK_FALSE(chunks.has(id_of(a)));
}

TEST_CASE("a restarted holder counts its chunks again and skips damaged ones") {
    MemoryStore disk;
    const std::string a(1000, 'a'), b(2000, 'b');
    {
        ChunkStore chunks(disk, {});
        REQUIRE(chunks.hold(id_of(a), "alice", 100, a).is_ok());
        REQUIRE(chunks.hold(id_of(b), "bob", 100, b).is_ok());
    }
    // Damage: bytes that no longer hash to their name, a truncated record, a bad key.
    REQUIRE(disk.put(std::string(ChunkStore::kPrefix) + id_of(b), disk.get(std::string(ChunkStore::kPrefix) + id_of(b)).value() + "x").is_ok());
    REQUIRE(disk.put(std::string(ChunkStore::kPrefix) + id_of("zzz"), "short").is_ok());
    REQUIRE(disk.put(std::string(ChunkStore::kPrefix) + "not-an-id", "whatever").is_ok());
    ChunkStore again(disk, {});
    auto loaded = again.load();
    REQUIRE(loaded.is_ok());
    CHECK(loaded->chunks == 1);
    CHECK(loaded->skipped == 3);
    CHECK(again.get(id_of(a)).value() == a);
    CHECK(again.usage_of("alice").bytes == 1000);
    CHECK_FALSE(again.has(id_of(b)));
}
