#pragma once
// The messages between a member that serves a client and the member that is
// registrar of the client's number (registrar.h, docs/security.md). Both are
// msgpack `[format_version, body, signature]`, signed by their author with
// its fast key (Ed25519, the roster's), so the peer service's plain HTTP
// needs no authentication of its own; the secret part of a request (the
// phone number, the code) is sealed to the registrar's fast key (X25519 in
// its Montgomery form, crypto/fast_seal.h).
//
//   request  [kind, network_id, from, to, user_id, address, sent_ms, nonce, sealed]
//   verdict  [network_id, from, request_digest, code, message, expires_in_s]
//
// The decoders bound every field and check no signature: the registrar
// checks the request's against `from`'s fast key and refuses a second
// request with the same (from, nonce), however it is encoded; the asking
// member checks the verdict's against `to`'s, and that the verdict answers
// its own request (request_digest, the SHA-256 of the request as sent).
// The user id (a hash of the number), the client's address and the time
// travel in the clear: only the number and the code are sealed.

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace dhtalk {

// 3: the secret sealed to the fast key. Versions 1 (RSA signatures) and 2
// (sealed to the RSA node key) are refused.
inline constexpr uint64_t kRegistrarFormatVersion = 3;
// What the sealed secret is bound to (crypto::seal_to_fast_key's purpose).
inline constexpr const char* kRegistrarSealPurpose = "dhtalk registrar request";
inline constexpr size_t kMaxRegistrarMessageBytes = 8 * 1024;
inline constexpr size_t kRegistrarNonceBytes = 16;

struct RegistrarRequest {
    enum class Kind : uint8_t { kCode = 1, kCheck = 2 };
    Kind kind = Kind::kCode;
    uint32_t network_id = 0;
    std::string from;      // node id of the member the client is logged in to
    std::string to;        // node id of the registrar
    std::string user_id;   // the number's user id
    std::string address;   // the client's address as `from` counts it (IPv6 by /64)
    int64_t sent_ms = 0;   // when `from` sent it (the registrar refuses stale ones)
    std::string nonce;     // kRegistrarNonceBytes random bytes: (from, nonce) names the request
    std::string sealed;    // sealed to `to`: the E.164 number (kCode) or the code (kCheck)
    std::string signature; // by `from`
};

struct RegistrarVerdict {
    uint32_t network_id = 0;
    std::string from;            // node id of the registrar
    std::string request_digest;  // SHA-256 of the request it answers
    Code code = Code::kOk;       // the registrar's answer, as a Status code
    std::string message;         // why, when not ok
    uint64_t expires_in_s = 0;   // kCode, ok: how long the code is valid
    std::string signature;       // by `from`

    Status status() const { return code == Code::kOk ? Status::ok() : Status(code, message); }
};

// The bytes that are signed.
std::string body_of(const RegistrarRequest& r);
std::string body_of(const RegistrarVerdict& v);
// The whole message, body and signature.
std::string encode(const RegistrarRequest& r);
std::string encode(const RegistrarVerdict& v);
// kInvalidArgument for anything but one well-formed message of this version.
Result<RegistrarRequest> decode_registrar_request(std::string_view bytes);
Result<RegistrarVerdict> decode_registrar_verdict(std::string_view bytes);

}  // namespace dhtalk
