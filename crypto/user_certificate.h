#pragma once
// User certificates: how a member node vouches for a verified phone number.
// The client makes a key pair and a certificate request; the node that
// verified the number issues an X.509 certificate with
//   subject CN = the user id, O = "dhtalk network <8 hex digits>",
//   authority key id = the issuing node's id (20 bytes),
// issuer = the node's certificate's subject, signed with the node's fast key
// (Ed25519, the one the roster lists for it). Any member node can then
// check, from the roster alone, that a certificate was issued by a current
// member for this network (check_user_certificate). A certificate signed
// with a node's RSA key is an older dhtalk's, refused with a clear error.
// Users' keys are Ed25519 (fast_key.h) too: a key is made in microseconds,
// where RSA-2048 took most of a registration, and a login handshake costs a
// fast signature. Nothing of OpenDHT's own signs or checks with them. A
// certificate for any other key is one of an older dhtalk, refused with a
// clear error. Thread-safe; never throws.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <opendht/crypto.h>

#include "common/clock.h"
#include "common/status.h"
#include "crypto/node_identity.h"

namespace dhtalk::crypto {

inline constexpr size_t kMaxCertificateRequestBytes = 8 * 1024;
inline constexpr std::chrono::seconds kUserCertificateValidity{std::chrono::hours(24 * 365)};

// An Ed25519 key pair.
Result<std::shared_ptr<dht::crypto::PrivateKey>> generate_user_key();
// A PEM certificate request for `user_id`, signed by `key` (proof of possession).
Result<std::string> make_certificate_request(const dht::crypto::PrivateKey& key, std::string_view user_id);

struct IssueRequest {
    std::string csr_pem;
    std::string user_id;
    uint32_t network_id = 0;
    WallTime now;
    std::chrono::seconds validity = kUserCertificateValidity;
};

// A PEM user certificate for the request's key, issued by `issuer`. Refuses
// a malformed, oversized or badly signed request with kInvalidArgument.
Result<std::string> issue_user_certificate(const IssueRequest& request, const NodeIdentity& issuer);

struct UserCertificateInfo {
    std::string user_id;
    uint32_t network_id = 0;
    std::string issuer_node_id;  // hex
    int64_t not_before_s = 0;
    int64_t not_after_s = 0;
    // The device this certificate's key belongs to: the first 8 bytes of the
    // SHA-256 of its public key (SubjectPublicKeyInfo), 16 lowercase hex
    // digits. Each registration makes a new key, so a new device.
    std::string device_id;
};

inline constexpr size_t kDeviceIdChars = 16;
// Whether `id` is kDeviceIdChars lowercase hex digits.
bool is_device_id(std::string_view id);

// The dhtalk fields of a user certificate; kInvalidArgument if it has none.
Result<UserCertificateInfo> inspect_user_certificate(const dht::crypto::Certificate& cert);

// The certificate a node's front end presents in TLS: for the node's fast
// key (Ed25519, so a handshake costs a fast signature, not an RSA-3072 one),
// authority key id = the node id, signed by the node's certificate, valid
// `validity` from `now`; never stored.
Result<std::shared_ptr<dht::crypto::Certificate>> make_tls_certificate(const NodeIdentity& node, WallTime now,
                                                                       std::chrono::seconds validity);

struct NodeCertificateInfo {
    std::string issuer_node_id;  // hex
    int64_t not_before_s = 0;
    int64_t not_after_s = 0;
};
// The fields of a node's TLS certificate; kInvalidArgument if it is not one
// for a fast key. Its issuer's signature is signed_by()'s, its time the
// caller's to check.
Result<NodeCertificateInfo> inspect_tls_certificate(const dht::crypto::Certificate& cert);

// Whether `issuer`'s key signed `cert` (a node's TLS certificate, signed by
// its RSA identity).
bool signed_by(const dht::crypto::Certificate& cert, const dht::crypto::Certificate& issuer);
// Whether the Ed25519 key `fast_key` (raw, kFastPublicKeyBytes) signed
// `cert` (a user certificate, signed by its node's fast key).
bool issued_with_fast_key(const dht::crypto::Certificate& cert, std::string_view fast_key);

// What a node checks of a user certificate's fields: it names a user of
// `network_id` and is valid at `now`. kPermissionDenied with the reason.
// The issuer's signature is issued_with_fast_key()'s, against the fast key
// of the member the caller finds in the roster by `info.issuer_node_id`.
Status check_user_certificate(const UserCertificateInfo& info, uint32_t network_id, WallTime now);

}  // namespace dhtalk::crypto
