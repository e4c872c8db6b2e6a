#pragma once
// The messages between members for an issuance audit (audit_service.h).
// Both are msgpack `[format_version, body, signature]`, signed by their
// author with its fast key (Ed25519, the roster's):
//
//   request  [network_id, from, to, sent_ms, first_day]
//   answer   [network_id, from, request_digest, truncated,
//             [[day, issuer, user_id, certificate], ...]]
//
// The answer lists the asked member's issuance ledger from `first_day` on
// (dht/issuance_ledger.h); an entry with an empty user id marks an issuer's
// day that reached the ledger's cap. The decoders bound every field and
// check no signature: the asked member checks the request's against
// `from`'s fast key, the asking one the answer's against `to`'s and that it
// answers its own request (request_digest, SHA-256 of the request as sent).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "dht/issuance_ledger.h"

namespace dhtalk {

inline constexpr uint64_t kAuditFormat = 1;
inline constexpr size_t kMaxAuditEntries = 100000;  // in one answer; more: truncated
inline constexpr size_t kMaxAuditAnswerBytes = 16 << 20;
inline constexpr size_t kMaxAuditRequestBytes = 1024;

struct AuditRequest {
    uint32_t network_id = 0;
    std::string from;  // node id of the asking member
    std::string to;    // node id of the asked one
    int64_t sent_ms = 0;
    uint32_t first_day = 0;  // days since 1970
    std::string signature;   // by `from`
};

struct AuditAnswer {
    uint32_t network_id = 0;
    std::string from;            // node id of the asked member
    std::string request_digest;  // SHA-256 of the request it answers
    bool truncated = false;      // its ledger held more than kMaxAuditEntries
    std::vector<IssuanceEntry> entries;
    std::string signature;  // by `from`
};

// The bytes that are signed.
std::string body_of(const AuditRequest& r);
std::string body_of(const AuditAnswer& a);
std::string encode(const AuditRequest& r);
std::string encode(const AuditAnswer& a);
// kInvalidArgument for anything but one well-formed message of this format.
Result<AuditRequest> decode_audit_request(std::string_view bytes);
Result<AuditAnswer> decode_audit_answer(std::string_view bytes);

}  // namespace dhtalk
