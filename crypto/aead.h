#pragma once
// Aead: authenticated encryption (AES-256-GCM, GnuTLS) under one 32-byte
// key, with 12-byte nonces and 16-byte tags. The caller owns nonce
// uniqueness: never seal two messages under one key with the same nonce.
// An Aead is immutable after creation and safe to use from several threads
// (each call uses its own GnuTLS handle state; GnuTLS documents AEAD handles
// as not shareable, so calls are serialised by a mutex).

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

struct api_aead_cipher_hd_st;

namespace dhtalk::crypto {

inline constexpr size_t kAeadKeyBytes = 32;
inline constexpr size_t kAeadNonceBytes = 12;
inline constexpr size_t kAeadTagBytes = 16;

using AeadKey = std::array<uint8_t, kAeadKeyBytes>;
using AeadNonce = std::array<uint8_t, kAeadNonceBytes>;

class Aead {
public:
    static Result<std::unique_ptr<Aead>> create(const AeadKey& key);
    ~Aead();

    // Appends nonce-bound ciphertext and tag of `plain` to `out`.
    Status seal(const AeadNonce& nonce, std::span<const uint8_t> aad, std::span<const uint8_t> plain,
                std::vector<uint8_t>& out) const;
    // Opens ciphertext+tag into `out` (replacing its contents); kCorruption
    // when the tag does not verify.
    Status open(const AeadNonce& nonce, std::span<const uint8_t> aad, std::span<const uint8_t> sealed,
                std::vector<uint8_t>& out) const;

private:
    Aead() = default;
    mutable std::mutex mutex_;
    api_aead_cipher_hd_st* handle_ = nullptr;  // guarded by mutex_
};

// Cryptographically random bytes from GnuTLS.
void random_bytes(std::span<uint8_t> out);
// A uniformly random 64-bit number from the same source.
uint64_t random_u64();
// A fresh random key.
AeadKey random_key();

}  // namespace dhtalk::crypto

namespace dhtalk::crypto {

// One-shot helpers for data encrypted once under a key: a random nonce,
// then ciphertext and tag. Safe for many blobs per key (random 96-bit nonces).
Result<std::string> encrypt_blob(const AeadKey& key, std::string_view plain);
// kCorruption if `blob` was not sealed under `key` or was altered.
Result<std::string> decrypt_blob(const AeadKey& key, std::string_view blob);

}  // namespace dhtalk::crypto
