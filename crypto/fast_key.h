#pragma once
// Fast keys: Ed25519 key pairs for what a node or a client signs per event
// (TLS handshakes, presence). Ed25519 signs in about 30 µs and verifies in
// about 100 µs here, against about 3 ms to sign with the node's RSA-3072
// identity, which OpenDHT 2.4.12 needs for what it signs itself. A node's
// fast key is certified by its identity: in the roster (Member::fast_key)
// and in the X.509 certificate its front end presents. Thread-safe; never
// throws.

#include <memory>
#include <string>
#include <string_view>

#include <opendht/crypto.h>

#include "common/status.h"
#include "crypto/aead.h"

namespace dhtalk::crypto {

inline constexpr size_t kFastPublicKeyBytes = 32;
inline constexpr size_t kFastSignatureBytes = 64;

Result<std::shared_ptr<dht::crypto::PrivateKey>> generate_fast_key();
// Whether `key` is an Ed25519 key.
bool is_fast_key(const dht::crypto::PrivateKey& key);
// The raw public key (kFastPublicKeyBytes) of an Ed25519 private key.
Result<std::string> fast_public_key(const dht::crypto::PrivateKey& key);
// Whether `signature` is the Ed25519 signature of `data` by the raw public
// key `public_key`; false for a key or signature of the wrong size.
bool verify_fast(std::string_view public_key, std::string_view data, std::string_view signature);
// A symmetric key only the holder of the Ed25519 `key` can make: SHA-256 of
// `purpose` and the private key. For data a user seals to themself (their
// privacy list), where RSA keys encrypted to their own public key.
Result<AeadKey> derive_own_secret(const dht::crypto::PrivateKey& key, std::string_view purpose);

}  // namespace dhtalk::crypto
