#pragma once
// The messages between members about media chunks (media_service.h,
// docs/media.md). Both are msgpack `[format_version, body, signature]`,
// signed by their author with its fast key (Ed25519, the roster's), so the
// peer service's plain HTTP needs no authentication of its own:
//
//   request  [kind, network_id, from, to, sent_ms, chunk_id, owner, expires_s, bytes]
//     hold   keep `bytes` (named chunk_id) for `owner` until expires_s
//     fetch  send chunk_id's bytes
//     has    say whether chunk_id is held
//   answer   [network_id, from, request_digest, code, message, bytes]
//            code and message: the holder's answer as a Status (a hold is
//            ok once the chunk is on its disk; has is ok or not found);
//            bytes: what a fetch found
//
// The decoders bound every field and check no signature: the holder checks
// the request's against `from`'s fast key, and the asking member the
// answer's against `to`'s, and that it answers its own request
// (request_digest). Chunks are end-to-end ciphertext, and their names their
// hashes: a fetched chunk is checked against its name as well.

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace dhtalk {

inline constexpr uint64_t kMediaPeerFormat = 1;
// What one request or answer holds at most: a chunk and the framing.
inline constexpr size_t kMaxMediaPeerBytes = 128 * 1024;

struct MediaRequest {
    enum class Kind : uint8_t { kHold = 1, kFetch = 2, kHas = 3 };
    Kind kind = Kind::kFetch;
    uint32_t network_id = 0;
    std::string from;  // node id of the asking member
    std::string to;    // node id of the holder
    int64_t sent_ms = 0;
    std::string chunk_id;   // 64 hex digits
    std::string owner;      // hold: the uploading user
    int64_t expires_s = 0;  // hold
    std::string bytes;      // hold
    std::string signature;  // by `from`
};

struct MediaAnswer {
    uint32_t network_id = 0;
    std::string from;            // node id of the holder
    std::string request_digest;  // SHA-256 of the request it answers
    Code code = Code::kOk;
    std::string message;
    std::string bytes;      // fetch
    std::string signature;  // by `from`

    Status status() const { return code == Code::kOk ? Status::ok() : Status(code, message); }
};

std::string body_of(const MediaRequest& r);
std::string body_of(const MediaAnswer& a);
std::string encode(const MediaRequest& r);
std::string encode(const MediaAnswer& a);
// kInvalidArgument for anything but one well-formed message of this format.
Result<MediaRequest> decode_media_request(std::string_view bytes);
Result<MediaAnswer> decode_media_answer(std::string_view bytes);

}  // namespace dhtalk
