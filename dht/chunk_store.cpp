#include "dht/chunk_store.h"

#include <optional>

#include "crypto/signing.h"
#include "net/inbox_message.h"

namespace dhtalk {
namespace {

std::string key_of(const std::string& id) { return std::string(ChunkStore::kPrefix) + id; }

std::string encode_record(int64_t expires_s, const std::string& owner, std::string_view bytes) {
    std::string r(8, '\0');
    for (int i = 0; i < 8; ++i) r[static_cast<size_t>(i)] = static_cast<char>(static_cast<uint64_t>(expires_s) >> (56 - 8 * i));
    r.push_back(static_cast<char>(owner.size()));
    r += owner;
    r.append(bytes);
    return r;
}

struct Record {
    int64_t expires_s = 0;
    std::string owner;
    std::string_view bytes;
};

// A record as written by encode_record, or nothing if it is damaged.
std::optional<Record> decode_record(std::string_view r) {
    if (r.size() < 9) return std::nullopt;
    uint64_t e = 0;
    for (size_t i = 0; i < 8; ++i) e = (e << 8) | static_cast<uint8_t>(r[i]);
    const size_t owner_len = static_cast<uint8_t>(r[8]);
    if (owner_len == 0 || owner_len > kMaxChunkOwnerBytes || r.size() < 9 + owner_len + 1) return std::nullopt;
    Record out{static_cast<int64_t>(e), std::string(r.substr(9, owner_len)), r.substr(9 + owner_len)};
    if (out.expires_s <= 0 || !is_inbox_id(out.owner) || out.bytes.size() > kMaxChunkBytes) return std::nullopt;
    return out;
}

}  // namespace

bool is_chunk_id(std::string_view id) {
    return id.size() == 64 && id.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

Status check_chunk(std::string_view id, std::string_view bytes) {
    if (!is_chunk_id(id)) return Status::invalid("a chunk id is the 64 hex digits of its SHA-256");
    if (bytes.empty() || bytes.size() > kMaxChunkBytes)
        return Status::invalid("a chunk is 1 to " + std::to_string(kMaxChunkBytes) + " bytes");
    if (crypto::to_hex(crypto::sha256(bytes)) != id) return Status::invalid("the chunk's bytes do not match its id");
    return Status::ok();
}

void ChunkStore::count_locked(const Entry& e, int sign) {
    auto apply = [&](Usage& u) {
        u.chunks = static_cast<size_t>(static_cast<int64_t>(u.chunks) + sign);
        u.bytes = static_cast<uint64_t>(static_cast<int64_t>(u.bytes) + sign * static_cast<int64_t>(e.bytes));
    };
    apply(total_);
    apply(per_owner_[e.owner]);
    if (per_owner_[e.owner].chunks == 0) per_owner_.erase(e.owner);
}

Result<ChunkStore::LoadResult> ChunkStore::load() {
    std::lock_guard lock(mutex_);
    LoadResult out;
    Status scanned = store_.scan(kPrefix, [&](std::string_view key, std::string_view value) {
        const std::string id(key.substr(std::string_view(kPrefix).size()));
        auto r = decode_record(value);
        if (!is_chunk_id(id) || !r || crypto::to_hex(crypto::sha256(r->bytes)) != id) {
            ++out.skipped;
            return true;
        }
        Entry e{r->owner, r->expires_s, r->bytes.size()};
        count_locked(e, +1);
        held_[id] = std::move(e);
        ++out.chunks;
        return true;
    });
    if (!scanned) return scanned;
    return out;
}

Result<ChunkStore::Held> ChunkStore::hold(const std::string& id, const std::string& owner, int64_t expires_s,
                                          std::string_view bytes) {
    if (!is_inbox_id(owner)) return Status::invalid("a chunk's owner is a user id");
    if (expires_s <= 0) return Status::invalid("a chunk needs an expiry");
    DHTALK_TRY(check_chunk(id, bytes));
    std::lock_guard lock(mutex_);
    if (held_.count(id)) return Held::kAlready;
    if (total_.bytes + bytes.size() > limits_.offer_bytes)
        return Status::exhausted("this node's media space is full (" + std::to_string(limits_.offer_bytes >> 20) +
                                 " MiB offered)");
    auto owned = per_owner_.find(owner);
    const uint64_t used = owned == per_owner_.end() ? 0 : owned->second.bytes;
    if (used + bytes.size() > limits_.quota_bytes_per_owner)
        return Status::exhausted("media quota reached: " + std::to_string(limits_.quota_bytes_per_owner >> 20) +
                                 " MiB per user on each holder; wait for older files to expire");
    DHTALK_TRY(store_.put(key_of(id), encode_record(expires_s, owner, bytes)));
    Entry e{owner, expires_s, bytes.size()};
    count_locked(e, +1);
    held_[id] = std::move(e);
    return Held::kNew;
}

Result<std::string> ChunkStore::get(const std::string& id) const {
    if (!is_chunk_id(id)) return Status::invalid("a chunk id is the 64 hex digits of its SHA-256");
    {
        std::lock_guard lock(mutex_);
        if (!held_.count(id)) return Status::not_found("chunk " + id.substr(0, 12) + " is not held here");
    }
    auto value = store_.get(key_of(id));
    if (!value) return value.status();
    auto r = decode_record(*value);
    if (!r) return Status::corruption("chunk " + id.substr(0, 12) + " is damaged on disk");
    return std::string(r->bytes);
}

bool ChunkStore::has(const std::string& id) const {
    std::lock_guard lock(mutex_);
    return held_.count(id) > 0;
}

std::vector<ChunkStore::HeldChunk> ChunkStore::list() const {
    std::lock_guard lock(mutex_);
    std::vector<HeldChunk> out;
    out.reserve(held_.size());
    for (const auto& [id, e] : held_) out.push_back({id, e.owner, e.expires_s});
    return out;
}

Status ChunkStore::erase(const std::string& id) {
    std::lock_guard lock(mutex_);
    auto it = held_.find(id);
    if (it == held_.end()) return Status::ok();
    DHTALK_TRY(store_.erase(key_of(id)));
    count_locked(it->second, -1);
    held_.erase(it);
    return Status::ok();
}

size_t ChunkStore::expire(int64_t now_s) {
    std::lock_guard lock(mutex_);
    WriteBatch batch;
    size_t dropped = 0;
    for (auto it = held_.begin(); it != held_.end();) {
        if (it->second.expires_s > now_s) {
            ++it;
            continue;
        }
        batch.erase(key_of(it->first));
        count_locked(it->second, -1);
        it = held_.erase(it);
        ++dropped;
    }
    if (!batch.empty()) store_.write(batch).ignore_error();  // left on disk: a restart loads it, the next call drops it
    return dropped;
}

ChunkStore::Usage ChunkStore::usage_of(const std::string& owner) const {
    std::lock_guard lock(mutex_);
    auto it = per_owner_.find(owner);
    return it == per_owner_.end() ? Usage{} : it->second;
}

ChunkStore::Usage ChunkStore::total() const {
    std::lock_guard lock(mutex_);
    return total_;
}

}  // namespace dhtalk
