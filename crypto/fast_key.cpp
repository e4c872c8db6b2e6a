#include "crypto/fast_key.h"

#include <gnutls/abstract.h>
#include <gnutls/x509.h>

#include <cstring>

#include "crypto/signing.h"

namespace dhtalk::crypto {

Result<std::shared_ptr<dht::crypto::PrivateKey>> generate_fast_key() {
    gnutls_x509_privkey_t raw = nullptr;
    int rc = gnutls_x509_privkey_init(&raw);
    if (rc >= 0)
        rc = gnutls_x509_privkey_generate2(raw, GNUTLS_PK_EDDSA_ED25519,
                                           GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_ED25519), 0, nullptr, 0);
    if (rc < 0) {
        if (raw) gnutls_x509_privkey_deinit(raw);
        return Status::internal(std::string("cannot generate an Ed25519 key: ") + gnutls_strerror(rc));
    }
    try {
        return std::make_shared<dht::crypto::PrivateKey>(raw);  // owns `raw` from here
    } catch (const std::exception& e) {
        return Status::internal(std::string("cannot use the Ed25519 key: ") + e.what());
    }
}

bool is_fast_key(const dht::crypto::PrivateKey& key) {
    return key.key && gnutls_privkey_get_pk_algorithm(key.key, nullptr) == GNUTLS_PK_EDDSA_ED25519;
}

Result<std::string> fast_public_key(const dht::crypto::PrivateKey& key) {
    if (!is_fast_key(key)) return Status::invalid("not an Ed25519 key");
    gnutls_datum_t x{nullptr, 0};
    const int rc = gnutls_privkey_export_ecc_raw2(key.key, nullptr, &x, nullptr, nullptr, 0);
    if (rc < 0) return Status::internal(std::string("cannot export the Ed25519 public key: ") + gnutls_strerror(rc));
    std::string out(reinterpret_cast<const char*>(x.data), x.size);
    gnutls_free(x.data);
    if (out.size() != kFastPublicKeyBytes) return Status::internal("an Ed25519 public key of the wrong size");
    return out;
}

bool verify_fast(std::string_view public_key, std::string_view data, std::string_view signature) {
    if (public_key.size() != kFastPublicKeyBytes || signature.size() != kFastSignatureBytes) return false;
    gnutls_pubkey_t pub = nullptr;
    if (gnutls_pubkey_init(&pub) < 0) return false;
    std::unique_ptr<gnutls_pubkey_st, decltype(&gnutls_pubkey_deinit)> guard(pub, gnutls_pubkey_deinit);
    const gnutls_datum_t x{reinterpret_cast<unsigned char*>(const_cast<char*>(public_key.data())),
                           static_cast<unsigned>(public_key.size())};
    if (gnutls_pubkey_import_ecc_raw(pub, GNUTLS_ECC_CURVE_ED25519, &x, nullptr) < 0) return false;
    const gnutls_datum_t d{reinterpret_cast<unsigned char*>(const_cast<char*>(data.data())),
                           static_cast<unsigned>(data.size())};
    const gnutls_datum_t s{reinterpret_cast<unsigned char*>(const_cast<char*>(signature.data())),
                           static_cast<unsigned>(signature.size())};
    return gnutls_pubkey_verify_data2(pub, GNUTLS_SIGN_EDDSA_ED25519, 0, &d, &s) >= 0;
}

Result<AeadKey> derive_own_secret(const dht::crypto::PrivateKey& key, std::string_view purpose) {
    if (!is_fast_key(key)) return Status::invalid("not an Ed25519 key");
    gnutls_datum_t k{nullptr, 0};
    const int rc = gnutls_privkey_export_ecc_raw2(key.key, nullptr, nullptr, nullptr, &k, 0);
    if (rc < 0) return Status::internal(std::string("cannot read the Ed25519 key: ") + gnutls_strerror(rc));
    std::string material(purpose);
    material.push_back('\n');
    material.append(reinterpret_cast<const char*>(k.data), k.size);
    gnutls_memset(k.data, 0, k.size);
    gnutls_free(k.data);
    const std::string digest = sha256(material);
    gnutls_memset(material.data(), 0, material.size());
    AeadKey out;
    std::memcpy(out.data(), digest.data(), out.size());
    return out;
}

}  // namespace dhtalk::crypto
