#pragma once
// The presence channel's wire format, shared by its sending side
// (presence.cpp) and its receiving side (presence_receive.cpp): limits,
// encoders and the ranking of directory nodes. Internal to node/gossip/.

#include <algorithm>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "common/msgpack_io.h"
#include "node/gossip/presence.h"

namespace dhtalk::presence_wire {

constexpr uint32_t kPresenceVersion = 1;
constexpr size_t kMaxId = 64;
constexpr size_t kMaxSyncEntries = 100;
constexpr size_t kSyncBatchBytes = 6000;

inline msgpack::unpack_limit presence_limit() {
    return msgpack::unpack_limit(/*array*/ std::max(kMaxWatchersPerEntry, kMaxSyncEntries), /*map*/ 0,
                                 /*str*/ kMaxPresenceStatusBytes, /*bin*/ kMaxPresenceDatagram, /*ext*/ 0, /*depth*/ 5);
}

inline uint64_t rendezvous(const std::string& member, const std::string& user) {
    uint64_t h = 1469598103934665603ull;  // FNV-1a: stable everywhere, which is all ranking needs
    for (char c : member + "\n" + user) {
        h ^= static_cast<uint8_t>(c);
        h *= 1099511628211ull;
    }
    return h;
}

inline std::vector<std::string> read_ids(Fields& f) { return f.str_list(kMaxWatchersPerEntry, kMaxId); }

inline std::vector<std::string> first_watchers(const std::set<std::string>& s) {
    std::vector<std::string> out;
    for (const auto& w : s) {
        if (out.size() == kMaxWatchersPerEntry) break;
        out.push_back(w);
    }
    return out;
}

inline std::vector<std::string> first_watchers(const std::map<std::string, unsigned>& holds) {
    std::vector<std::string> out;
    for (const auto& [w, n] : holds) {
        if (out.size() == kMaxWatchersPerEntry) break;
        out.push_back(w);
    }
    return out;
}

inline std::string encode_presence(const Presence& p) {
    msgpack::sbuffer buf;
    MsgpackPacker pk(buf);
    pk.pack_array(6);
    pack_str(pk, p.user_id);
    pack_str(pk, p.show);
    pack_str(pk, p.status);
    pk.pack(p.last_seen_ms);
    pk.pack(p.version);
    pack_str(pk, p.host);
    return {buf.data(), buf.size()};
}

// A message: [version, kind, body...] packed by `body`.
template <class Body>
std::string message(uint8_t kind, uint32_t fields, Body body) {
    msgpack::sbuffer buf;
    MsgpackPacker pk(buf);
    pk.pack_array(2 + fields);
    pk.pack(kPresenceVersion);
    pk.pack(kind);
    body(pk);
    return {buf.data(), buf.size()};
}

}  // namespace dhtalk::presence_wire
