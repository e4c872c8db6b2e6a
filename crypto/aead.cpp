#include "crypto/aead.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include <algorithm>
#include <cstdlib>

namespace dhtalk::crypto {

Result<std::unique_ptr<Aead>> Aead::create(const AeadKey& key) {
    std::unique_ptr<Aead> a(new Aead());
    gnutls_datum_t k{const_cast<unsigned char*>(key.data()), static_cast<unsigned>(key.size())};
    const int rc = gnutls_aead_cipher_init(&a->handle_, GNUTLS_CIPHER_AES_256_GCM, &k);
    if (rc < 0) return Status::internal(std::string("cannot set up AES-256-GCM: ") + gnutls_strerror(rc));
    return a;
}

Aead::~Aead() {
    if (handle_) gnutls_aead_cipher_deinit(handle_);
}

Status Aead::seal(const AeadNonce& nonce, std::span<const uint8_t> aad, std::span<const uint8_t> plain,
                  std::vector<uint8_t>& out) const {
    const size_t start = out.size();
    out.resize(start + plain.size() + kAeadTagBytes);
    size_t len = plain.size() + kAeadTagBytes;
    std::lock_guard lock(mutex_);
    const int rc = gnutls_aead_cipher_encrypt(handle_, nonce.data(), nonce.size(), aad.data(), aad.size(),
                                              kAeadTagBytes, plain.data(), plain.size(), out.data() + start, &len);
    if (rc < 0) {
        out.resize(start);
        return Status::internal(std::string("AEAD seal failed: ") + gnutls_strerror(rc));
    }
    out.resize(start + len);
    return Status::ok();
}

Status Aead::open(const AeadNonce& nonce, std::span<const uint8_t> aad, std::span<const uint8_t> sealed,
                  std::vector<uint8_t>& out) const {
    if (sealed.size() < kAeadTagBytes) return Status::corruption("sealed data shorter than its tag");
    out.resize(sealed.size() - kAeadTagBytes);
    size_t len = out.size();
    std::lock_guard lock(mutex_);
    const int rc = gnutls_aead_cipher_decrypt(handle_, nonce.data(), nonce.size(), aad.data(), aad.size(),
                                              kAeadTagBytes, sealed.data(), sealed.size(), out.data(), &len);
    if (rc < 0) {
        out.clear();
        return Status::corruption("authentication tag does not verify");
    }
    out.resize(len);
    return Status::ok();
}

void random_bytes(std::span<uint8_t> out) {
    // GnuTLS's generator fails only when the system has no entropy source at
    // all; nothing in dhtalk can run safely then.
    if (gnutls_rnd(GNUTLS_RND_RANDOM, out.data(), out.size()) != 0) std::abort();
}

uint64_t random_u64() {
    uint8_t b[8];
    random_bytes(b);
    uint64_t v = 0;
    for (uint8_t x : b) v = (v << 8) | x;
    return v;
}

AeadKey random_key() {
    AeadKey k;
    random_bytes(k);
    return k;
}

}  // namespace dhtalk::crypto

namespace dhtalk::crypto {

namespace {
std::span<const uint8_t> as_bytes(std::string_view s) {
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
}  // namespace

Result<std::string> encrypt_blob(const AeadKey& key, std::string_view plain) {
    auto aead = Aead::create(key);
    if (!aead) return aead.status();
    AeadNonce nonce;
    random_bytes(nonce);
    std::vector<uint8_t> out(nonce.begin(), nonce.end());
    DHTALK_TRY((*aead)->seal(nonce, {}, as_bytes(plain), out));
    return std::string(out.begin(), out.end());
}

Result<std::string> decrypt_blob(const AeadKey& key, std::string_view blob) {
    if (blob.size() < kAeadNonceBytes + kAeadTagBytes) return Status::corruption("the encrypted data is truncated");
    auto aead = Aead::create(key);
    if (!aead) return aead.status();
    AeadNonce nonce;
    std::copy_n(reinterpret_cast<const uint8_t*>(blob.data()), kAeadNonceBytes, nonce.begin());
    std::vector<uint8_t> out;
    DHTALK_TRY((*aead)->open(nonce, {}, as_bytes(blob.substr(kAeadNonceBytes)), out));
    return std::string(out.begin(), out.end());
}

}  // namespace dhtalk::crypto
