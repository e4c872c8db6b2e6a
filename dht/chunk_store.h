#pragma once
// ChunkStore: the media chunks this node holds for the network
// (docs/media.md), in the node's Store. A chunk is end-to-end ciphertext,
// named by its SHA-256 (hex), with its owner (the user who uploaded it) and
// when it expires. Holding a chunk checks its name against its bytes, so a
// forged chunk is never kept. Holding it again changes nothing (a retry, or
// a second owner's copy of the same bytes, is free).
//
// Bounds: a chunk's size, the space this node offers (bytes in all), and a
// quota per owner. Over a bound, hold() refuses the chunk with a clear error
// and touches nothing held. Past its expiry a chunk is dropped by expire().
// Records on disk are input like any other: a damaged one is skipped and
// counted at load, never fatal. Durable against power loss after sync().
// Thread-safe.

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "storage/store.h"

namespace dhtalk {

// A chunk's ciphertext at most: 64 KiB of a file, and the AEAD's nonce and
// tag, with room to spare (a client frame is at most 128 KiB).
inline constexpr size_t kMaxChunkBytes = 96 * 1024;
// Chunk ids are 64 lowercase hex digits: the SHA-256 of the chunk.
bool is_chunk_id(std::string_view id);
// Owners are user ids: 1 to 64 of [0-9A-Za-z_-].
inline constexpr size_t kMaxChunkOwnerBytes = 64;
// A chunk as anyone may take it: a well-formed id, 1 to kMaxChunkBytes,
// and bytes whose SHA-256 is the id; kInvalidArgument naming what is wrong.
Status check_chunk(std::string_view id, std::string_view bytes);

struct ChunkLimits {
    uint64_t offer_bytes = 1024ull << 20;           // all chunks held here
    uint64_t quota_bytes_per_owner = 1024ull << 20;  // held here for one owner
};

class ChunkStore {
public:
    static constexpr const char* kPrefix = "mc/";  // mc/ID -> [expires_s (8 bytes), owner length, owner, bytes]

    // `store` must outlive the chunk store.
    ChunkStore(Store& store, ChunkLimits limits) : store_(store), limits_(limits) {}

    struct LoadResult {
        size_t chunks = 0;
        size_t skipped = 0;  // damaged records, left on disk untouched
    };
    // Counts what the store already holds (after a restart), for the bounds.
    Result<LoadResult> load();

    enum class Held { kNew, kAlready };
    // kInvalidArgument for a malformed id or owner, an empty or oversized
    // chunk, or bytes whose SHA-256 is not `id`; kResourceExhausted over the
    // offer or the owner's quota.
    Result<Held> hold(const std::string& id, const std::string& owner, int64_t expires_s, std::string_view bytes);
    // kNotFound if not held here.
    Result<std::string> get(const std::string& id) const;
    bool has(const std::string& id) const;
    // Every chunk held here, without its bytes (for repair).
    struct HeldChunk {
        std::string id, owner;
        int64_t expires_s = 0;
    };
    std::vector<HeldChunk> list() const;
    // Lets go of a chunk (a stand-in, once its holders have it).
    Status erase(const std::string& id);
    // Drops the chunks whose expiry is at or before `now_s`; how many.
    size_t expire(int64_t now_s);
    Status sync() { return store_.sync(); }

    struct Usage {
        size_t chunks = 0;
        uint64_t bytes = 0;
    };
    Usage usage_of(const std::string& owner) const;
    Usage total() const;

private:
    struct Entry {
        std::string owner;
        int64_t expires_s = 0;
        uint64_t bytes = 0;
    };
    void count_locked(const Entry& e, int sign);

    Store& store_;
    const ChunkLimits limits_;
    mutable std::mutex mutex_;
    std::map<std::string, Entry> held_;        // guarded by mutex_: id -> what it holds
    std::map<std::string, Usage> per_owner_;  // guarded by mutex_
    Usage total_;                             // guarded by mutex_
};

}  // namespace dhtalk
