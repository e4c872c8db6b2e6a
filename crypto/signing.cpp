#include "crypto/signing.h"

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>

#include <cstdlib>

namespace dhtalk::crypto {
namespace {

const uint8_t* bytes(std::string_view s) { return reinterpret_cast<const uint8_t*>(s.data()); }

}  // namespace

std::string sha256(std::string_view data) {
    std::string out(32, '\0');
    // Cannot fail on in-memory input short of a broken library.
    if (gnutls_hash_fast(GNUTLS_DIG_SHA256, data.data(), data.size(), out.data()) != 0) std::abort();
    return out;
}

std::string to_hex(std::string_view b) {
    static const char* digits = "0123456789abcdef";
    std::string out;
    out.reserve(b.size() * 2);
    for (unsigned char c : b) {
        out.push_back(digits[c >> 4]);
        out.push_back(digits[c & 15]);
    }
    return out;
}

bool is_lower_hex(std::string_view s, size_t digits) {
    return s.size() == digits && s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

Result<std::string> from_hex(std::string_view hex) {
    if (!is_lower_hex(hex, hex.size()) || hex.size() % 2) return Status::invalid("not lowercase hex");
    auto nibble = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
    std::string out(hex.size() / 2, '\0');
    for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<char>(nibble(hex[2 * i]) << 4 | nibble(hex[2 * i + 1]));
    return out;
}

namespace {

// RSA signs SHA-512 digests, as OpenDHT does; Ed25519 signs the data.
gnutls_sign_algorithm_t algorithm_for(gnutls_pk_algorithm_t pk) {
    if (pk == GNUTLS_PK_RSA) return GNUTLS_SIGN_RSA_SHA512;
    if (pk == GNUTLS_PK_EDDSA_ED25519) return GNUTLS_SIGN_EDDSA_ED25519;
    return GNUTLS_SIGN_UNKNOWN;
}

gnutls_datum_t datum(std::string_view s) {
    return {reinterpret_cast<unsigned char*>(const_cast<char*>(s.data())), static_cast<unsigned>(s.size())};
}

}  // namespace

Result<std::string> sign(const dht::crypto::PrivateKey& key, std::string_view data) {
    if (!key.key) return Status::internal("cannot sign: no key");
    const auto algorithm = algorithm_for(static_cast<gnutls_pk_algorithm_t>(gnutls_privkey_get_pk_algorithm(key.key, nullptr)));
    if (algorithm == GNUTLS_SIGN_UNKNOWN) return Status::internal("cannot sign with a key that is neither RSA nor Ed25519");
    const gnutls_datum_t d = datum(data);
    gnutls_datum_t sig{nullptr, 0};
    const int rc = gnutls_privkey_sign_data2(key.key, algorithm, 0, &d, &sig);
    if (rc < 0) return Status::internal(std::string("cannot sign: ") + gnutls_strerror(rc));
    std::string out(reinterpret_cast<const char*>(sig.data), sig.size);
    gnutls_free(sig.data);
    return out;
}

bool verify(const dht::crypto::Certificate& cert, std::string_view data, std::string_view signature) {
    if (!cert.cert) return false;
    gnutls_pubkey_t key = nullptr;
    if (gnutls_pubkey_init(&key) < 0) return false;
    std::unique_ptr<gnutls_pubkey_st, decltype(&gnutls_pubkey_deinit)> guard(key, gnutls_pubkey_deinit);
    if (gnutls_pubkey_import_x509(key, cert.cert, 0) < 0) return false;
    const auto algorithm = algorithm_for(static_cast<gnutls_pk_algorithm_t>(gnutls_pubkey_get_pk_algorithm(key, nullptr)));
    if (algorithm == GNUTLS_SIGN_UNKNOWN) return false;
    const gnutls_datum_t d = datum(data), s = datum(signature);
    return gnutls_pubkey_verify_data2(key, algorithm, 0, &d, &s) >= 0;
}

Status check_public_key(gnutls_pubkey_t key) {
    unsigned bits = 0;
    const int algorithm = gnutls_pubkey_get_pk_algorithm(key, &bits);
    if (algorithm == GNUTLS_PK_EDDSA_ED25519) return Status::ok();  // fixed size, constant cost
    if (algorithm != GNUTLS_PK_RSA) return Status::invalid("the key is neither RSA nor Ed25519");
    if (bits > kMaxRsaBits)
        return Status::invalid("the key has " + std::to_string(bits) + " bits; at most " + std::to_string(kMaxRsaBits));
    gnutls_datum_t n{}, e{};
    if (gnutls_pubkey_export_rsa_raw2(key, &n, &e, GNUTLS_EXPORT_FLAG_NO_LZ) < 0)
        return Status::invalid("the key's RSA parameters cannot be read");
    // Without leading zeros, 3 <= e < 2^32 is one to four bytes, and odd.
    const bool ok = e.size >= 1 && e.size <= 4 && (e.data[e.size - 1] & 1) != 0 && !(e.size == 1 && e.data[0] < 3);
    gnutls_free(n.data);
    gnutls_free(e.data);
    if (!ok) return Status::invalid("the key's RSA public exponent is not an odd number from 3 to 2^32");
    return Status::ok();
}

Status check_public_key(const dht::crypto::Certificate& cert) {
    gnutls_pubkey_t key = nullptr;
    if (!cert.cert || gnutls_pubkey_init(&key) < 0) return Status::invalid("not a certificate");
    std::unique_ptr<gnutls_pubkey_st, decltype(&gnutls_pubkey_deinit)> guard(key, gnutls_pubkey_deinit);
    if (gnutls_pubkey_import_x509(key, cert.cert, 0) < 0) return Status::invalid("the certificate carries no usable key");
    return check_public_key(key);
}

Result<std::shared_ptr<dht::crypto::Certificate>> parse_certificate(std::string_view pem) {
    if (pem.empty() || pem.size() > kMaxCertificateBytes)
        return Status::invalid("certificate of " + std::to_string(pem.size()) + " bytes is empty or too large");
    // One PEM block and nothing before it: GnuTLS takes the first block it
    // finds anywhere, so the text could otherwise differ from what is read.
    constexpr std::string_view kBegin = "-----BEGIN CERTIFICATE-----";
    if (pem.substr(0, kBegin.size()) != kBegin || pem.find(kBegin, kBegin.size()) != std::string_view::npos)
        return Status::invalid("not a certificate: the text is not one PEM certificate");
    std::shared_ptr<dht::crypto::Certificate> cert;
    try {
        cert = std::make_shared<dht::crypto::Certificate>(pem);
    } catch (const std::exception& e) {
        return Status::invalid(std::string("not a certificate: ") + e.what());
    }
    if (!cert->cert) return Status::invalid("not a certificate");
    if (Status key = check_public_key(*cert); !key) return Status::invalid("a certificate refused: " + key.message());
    return cert;
}

std::string node_id_of(const dht::crypto::Certificate& cert) { return cert.getId().toString(); }

Result<std::string> seal_to(const dht::crypto::Certificate& cert, std::string_view secret) {
    try {
        auto sealed = cert.getPublicKey().encrypt(bytes(secret), secret.size());
        return std::string(sealed.begin(), sealed.end());
    } catch (const std::exception& e) {
        return Status::internal(std::string("cannot seal: ") + e.what());
    }
}

Result<std::string> open_sealed(const dht::crypto::PrivateKey& key, std::string_view sealed) {
    try {
        auto plain = key.decrypt(bytes(sealed), sealed.size());
        return std::string(plain.begin(), plain.end());
    } catch (const std::exception& e) {
        return Status::corruption(std::string("cannot open the sealed secret: ") + e.what());
    }
}

}  // namespace dhtalk::crypto
