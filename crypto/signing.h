#pragma once
// Signatures, digests and key sealing for dhtalk's signed documents, on
// OpenDHT's GnuTLS key types: RSA (SHA-512), as OpenDHT 2.4.12 signs, or
// Ed25519 (fast_key.h) where no OpenDHT code checks the signature.
// Every function is thread-safe and never throws; certificates and
// signatures from outside are parsed with bounds and refused with a Status.

#include <memory>
#include <string>
#include <string_view>

#include <opendht/crypto.h>

#include "common/status.h"

namespace dhtalk::crypto {

inline constexpr size_t kMaxCertificateBytes = 8 * 1024;

// SHA-256 of `data`, 32 raw bytes.
std::string sha256(std::string_view data);
std::string to_hex(std::string_view bytes);
// Whether `s` is `digits` lowercase hex digits.
bool is_lower_hex(std::string_view s, size_t digits);
// The bytes of lowercase hex; kInvalidArgument for anything else.
Result<std::string> from_hex(std::string_view hex);

Result<std::string> sign(const dht::crypto::PrivateKey& key, std::string_view data);
bool verify(const dht::crypto::Certificate& cert, std::string_view data, std::string_view signature);

// Every key from outside is Ed25519, or RSA with a public exponent that is
// odd and between 3 and 2^32 (every real key: 3, 17, 65537) and a modulus of
// at most kMaxRsaBits. A huge exponent makes each signature check
// arbitrarily slow (2^1000+1 costs 30 times 65537), so it is refused before
// any verification. Where a key must be RSA (a node's identity), the caller
// says so.
inline constexpr unsigned kMaxRsaBits = 8192;
[[nodiscard]] Status check_public_key(gnutls_pubkey_t key);
[[nodiscard]] Status check_public_key(const dht::crypto::Certificate& cert);

// Parses a PEM certificate (bounded) and checks its key (check_public_key);
// kInvalidArgument if it is not one or its key is refused.
Result<std::shared_ptr<dht::crypto::Certificate>> parse_certificate(std::string_view pem);
// The node id a certificate stands for: hex of its public-key id.
std::string node_id_of(const dht::crypto::Certificate& cert);

// Encrypts `secret` so that only the holder of `cert`'s private key reads it.
Result<std::string> seal_to(const dht::crypto::Certificate& cert, std::string_view secret);
Result<std::string> open_sealed(const dht::crypto::PrivateKey& key, std::string_view sealed);

}  // namespace dhtalk::crypto
