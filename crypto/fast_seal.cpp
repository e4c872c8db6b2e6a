#include "crypto/fast_seal.h"

#include <gmp.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <nettle/curve25519.h>

#include <array>
#include <cstring>
#include <optional>

#include "crypto/aead.h"
#include "crypto/fast_key.h"
#include "crypto/signing.h"

namespace dhtalk::crypto {
namespace {

constexpr size_t kPointBytes = CURVE25519_SIZE;
static_assert(kPointBytes == kFastPublicKeyBytes);
using Point = std::array<uint8_t, kPointBytes>;  // an X25519 public key or shared secret, little-endian
using Scalar = std::array<uint8_t, kPointBytes>;

// Wipes a secret on every way out.
template <size_t N>
struct Wiped {
    std::array<uint8_t, N> bytes{};
    ~Wiped() { gnutls_memset(bytes.data(), 0, N); }
};

// The X25519 public key of an Ed25519 public key: u = (1 + y) / (1 - y)
// mod 2^255 - 19, where y is the Edwards point's encoded coordinate (little-
// endian, its top bit the sign of x). None for a y out of range or y = 1.
std::optional<Point> montgomery_of(std::string_view ed25519_public) {
    if (ed25519_public.size() != kPointBytes) return std::nullopt;
    Point y_bytes;
    std::memcpy(y_bytes.data(), ed25519_public.data(), kPointBytes);
    y_bytes[kPointBytes - 1] &= 0x7f;
    mpz_t p, y, num, den;
    mpz_inits(p, y, num, den, nullptr);
    mpz_ui_pow_ui(p, 2, 255);
    mpz_sub_ui(p, p, 19);
    mpz_import(y, kPointBytes, -1, 1, 0, 0, y_bytes.data());  // least significant byte first
    std::optional<Point> out;
    if (mpz_cmp(y, p) < 0) {
        mpz_add_ui(num, y, 1);
        mpz_ui_sub(den, 1, y);
        mpz_mod(den, den, p);
        if (mpz_invert(den, den, p) != 0) {
            mpz_mul(num, num, den);
            mpz_mod(num, num, p);
            Point u{};
            size_t written = 0;
            mpz_export(u.data(), &written, -1, 1, 0, 0, num);  // at most 32 bytes: num < p
            out = u;
        }
    }
    mpz_clears(p, y, num, den, nullptr);
    return out;
}

// The X25519 scalar of an Ed25519 key: the first half of SHA-512 of its
// seed, clamped (RFC 8032 section 5.1.5), as Ed25519 itself uses it.
Status scalar_of(const dht::crypto::PrivateKey& key, Wiped<kPointBytes>& scalar) {
    if (!is_fast_key(key)) return Status::invalid("not an Ed25519 key");
    gnutls_datum_t k{nullptr, 0};
    const int rc = gnutls_privkey_export_ecc_raw2(key.key, nullptr, nullptr, nullptr, &k, 0);
    if (rc < 0) return Status::internal(std::string("cannot read the Ed25519 key: ") + gnutls_strerror(rc));
    Wiped<64> digest;
    const int hashed = gnutls_hash_fast(GNUTLS_DIG_SHA512, k.data, k.size, digest.bytes.data());
    gnutls_memset(k.data, 0, k.size);
    gnutls_free(k.data);
    if (hashed < 0) return Status::internal("cannot hash the Ed25519 key");
    std::memcpy(scalar.bytes.data(), digest.bytes.data(), kPointBytes);
    scalar.bytes[0] &= 248;
    scalar.bytes[31] &= 127;
    scalar.bytes[31] |= 64;
    return Status::ok();
}

// One AES-256-GCM key per sealing: the ephemeral key is fresh each time,
// so the nonce can stay zero.
Result<std::unique_ptr<Aead>> cipher_for(const Point& ephemeral, const Point& recipient, const Point& shared) {
    std::string material = "dhtalk fast seal 1\n";
    material.append(reinterpret_cast<const char*>(ephemeral.data()), kPointBytes);
    material.append(reinterpret_cast<const char*>(recipient.data()), kPointBytes);
    material.append(reinterpret_cast<const char*>(shared.data()), kPointBytes);
    const std::string digest = sha256(material);
    gnutls_memset(material.data(), 0, material.size());
    AeadKey key;
    std::memcpy(key.data(), digest.data(), key.size());
    auto aead = Aead::create(key);
    gnutls_memset(key.data(), 0, key.size());
    return aead;
}

bool all_zero(const Point& p) {
    uint8_t any = 0;
    for (uint8_t b : p) any |= b;
    return any == 0;
}

std::span<const uint8_t> bytes_of(std::string_view s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

}  // namespace

Result<std::string> x25519_public_of(std::string_view ed25519_public) {
    auto u = montgomery_of(ed25519_public);
    if (!u || all_zero(*u)) return Status::invalid("not an Ed25519 public key");
    return std::string(u->begin(), u->end());
}

Result<std::string> seal_to_fast_key(std::string_view public_key, std::string_view purpose, std::string_view secret) {
    auto recipient = montgomery_of(public_key);
    if (!recipient) return Status::invalid("not an Ed25519 public key");
    Wiped<kPointBytes> ephemeral_secret;
    random_bytes(ephemeral_secret.bytes);
    Point ephemeral;
    curve25519_mul_g(ephemeral.data(), ephemeral_secret.bytes.data());
    Point shared;
    curve25519_mul(shared.data(), ephemeral_secret.bytes.data(), recipient->data());
    // A point of small order gives no secret at all.
    if (all_zero(shared)) return Status::invalid("not a usable Ed25519 public key");
    auto aead = cipher_for(ephemeral, *recipient, shared);
    gnutls_memset(shared.data(), 0, shared.size());
    if (!aead) return aead.status();
    std::vector<uint8_t> out;
    out.reserve(1 + kPointBytes + secret.size() + kAeadTagBytes);
    out.push_back(kFastSealVersion);
    out.insert(out.end(), ephemeral.begin(), ephemeral.end());
    DHTALK_TRY((*aead)->seal(AeadNonce{}, bytes_of(purpose), bytes_of(secret), out));
    return std::string(out.begin(), out.end());
}

Result<std::string> open_with_fast_key(const dht::crypto::PrivateKey& key, std::string_view purpose,
                                       std::string_view sealed) {
    if (sealed.size() < 1 + kPointBytes + kAeadTagBytes) return Status::corruption("a sealed secret too short to be one");
    if (static_cast<uint8_t>(sealed[0]) != kFastSealVersion)
        return Status::corruption("a sealed secret of version " + std::to_string(static_cast<uint8_t>(sealed[0])) +
                                  ", not " + std::to_string(kFastSealVersion));
    Point ephemeral;
    std::memcpy(ephemeral.data(), sealed.data() + 1, kPointBytes);
    Wiped<kPointBytes> scalar;
    DHTALK_TRY(scalar_of(key, scalar));
    Point own, shared;
    curve25519_mul_g(own.data(), scalar.bytes.data());
    curve25519_mul(shared.data(), scalar.bytes.data(), ephemeral.data());
    if (all_zero(shared)) return Status::corruption("a sealed secret with an unusable ephemeral key");
    auto aead = cipher_for(ephemeral, own, shared);
    gnutls_memset(shared.data(), 0, shared.size());
    if (!aead) return aead.status();
    std::vector<uint8_t> plain;
    if (!(*aead)->open(AeadNonce{}, bytes_of(purpose), bytes_of(sealed.substr(1 + kPointBytes)), plain))
        return Status::corruption("a secret sealed to another key or for another use, or altered");
    std::string out(plain.begin(), plain.end());
    gnutls_memset(plain.data(), 0, plain.size());
    return out;
}

}  // namespace dhtalk::crypto
