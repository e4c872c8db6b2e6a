#pragma once
// Sealing a short secret to a fast key (an Ed25519 key, fast_key.h): X25519
// with a fresh ephemeral key, then AES-256-GCM under a key derived from the
// shared secret. The recipient's X25519 key is its Ed25519 key in Montgomery
// form (RFC 7748 section 4.1's birational map), so the key a node already
// publishes in the roster serves: no second key to certify. About 0.1 ms to
// seal or open here, against 3 ms to open what RSA-3072 sealed.
//
// Sealed form: version byte 1, the ephemeral X25519 public key (32 bytes),
// the ciphertext and its 16-byte tag. Thread-safe; never throws.

#include <string>
#include <string_view>

#include <opendht/crypto.h>

#include "common/status.h"

namespace dhtalk::crypto {

inline constexpr uint8_t kFastSealVersion = 1;

// Seals `secret` so that only the holder of the Ed25519 key whose raw public
// key (kFastPublicKeyBytes) is `public_key` can open it. `purpose` binds the
// sealed bytes to their use: opening with another purpose fails.
Result<std::string> seal_to_fast_key(std::string_view public_key, std::string_view purpose, std::string_view secret);
// The X25519 public key (32 bytes) of an Ed25519 raw public key; kInvalid
// for bytes that encode no usable point.
Result<std::string> x25519_public_of(std::string_view ed25519_public);
// Opens what seal_to_fast_key() sealed to `key`'s public key for `purpose`.
// kCorruption for bytes sealed to another key or purpose, tampered, or not
// in the sealed form.
Result<std::string> open_with_fast_key(const dht::crypto::PrivateKey& key, std::string_view purpose,
                                       std::string_view sealed);

}  // namespace dhtalk::crypto
