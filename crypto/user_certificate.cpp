#include "crypto/user_certificate.h"

#include <algorithm>
#include <array>
#include <cstdio>

#include <gnutls/abstract.h>
#include <gnutls/x509.h>

#include "crypto/aead.h"
#include "crypto/fast_key.h"
#include "crypto/signing.h"

namespace dhtalk::crypto {
namespace {

// RAII for the GnuTLS handles used here, each made on the line that inits it.
struct Crq {
    gnutls_x509_crq_t h = nullptr;
    Crq() { gnutls_x509_crq_init(&h); }
    ~Crq() { gnutls_x509_crq_deinit(h); }
};
struct Crt {
    gnutls_x509_crt_t h = nullptr;
    Crt() { gnutls_x509_crt_init(&h); }
    ~Crt() {
        if (h) gnutls_x509_crt_deinit(h);
    }
};
struct Pubkey {
    gnutls_pubkey_t h = nullptr;
    Pubkey() { gnutls_pubkey_init(&h); }
    ~Pubkey() { gnutls_pubkey_deinit(h); }
};
struct Datum {
    gnutls_datum_t d{nullptr, 0};
    ~Datum() { gnutls_free(d.data); }
    std::string str() const { return {reinterpret_cast<const char*>(d.data), d.size}; }
};

Status gnutls_failed(const char* what, int rc) {
    return Status::internal(std::string(what) + ": " + gnutls_strerror(rc));
}

std::string network_org(uint32_t network_id) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "dhtalk network %08x", network_id);
    return buf;
}

Result<std::string> dn_field(gnutls_x509_crt_t crt, const char* oid) {
    char buf[256];
    size_t size = sizeof buf;
    const int rc = gnutls_x509_crt_get_dn_by_oid(crt, oid, 0, 0, buf, &size);
    if (rc < 0) return Status::invalid(std::string("the certificate has no ") + oid + " field");
    return std::string(buf, size);
}

// The issuing node's id (hex) that a certificate names as its authority
// key id; `whose` begins the error.
Result<std::string> issuing_node(gnutls_x509_crt_t crt, const char* whose) {
    unsigned char aki[64];
    size_t aki_size = sizeof aki;
    if (gnutls_x509_crt_get_authority_key_id(crt, aki, &aki_size, nullptr) < 0 || aki_size != 20)
        return Status::invalid(std::string(whose) + " names no issuing node");
    return dht::InfoHash(aki, aki_size).toString();
}

void set_validity(gnutls_x509_crt_t crt, WallTime now, std::chrono::seconds validity) {
    gnutls_x509_crt_set_version(crt, 3);
    std::array<uint8_t, 16> serial;
    random_bytes(serial);
    gnutls_x509_crt_set_serial(crt, serial.data(), serial.size());
    const time_t t = std::chrono::system_clock::to_time_t(now);
    gnutls_x509_crt_set_activation_time(crt, t - 300);
    gnutls_x509_crt_set_expiration_time(crt, t + static_cast<time_t>(validity.count()));
}

// A certificate for `node`'s fast key, named after the node.
Status for_fast_key(gnutls_x509_crt_t crt, const NodeIdentity& node) {
    int rc = gnutls_x509_crt_set_key(crt, node.fast_key->x509_key);
    if (rc < 0) return gnutls_failed("cannot set the fast key", rc);
    const std::string cn = "dhtalk node " + node.node_id_hex();
    rc = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, cn.data(), static_cast<unsigned>(cn.size()));
    return rc < 0 ? gnutls_failed("cannot name the certificate", rc) : Status::ok();
}

// A certificate read back from its encoding: GnuTLS fills a certificate's
// raw names only on import, and signing or verifying with one made in
// memory finds no issuer.
Status read_back(gnutls_x509_crt_t made, Crt& out) {
    Datum der;
    int rc = gnutls_x509_crt_export2(made, GNUTLS_X509_FMT_DER, &der.d);
    if (rc < 0) return gnutls_failed("cannot export the certificate", rc);
    if ((rc = gnutls_x509_crt_import(out.h, &der.d, GNUTLS_X509_FMT_DER)) < 0)
        return gnutls_failed("cannot read back the certificate", rc);
    return Status::ok();
}

// What user and TLS certificates share: a leaf (no CA) for `key_usage`,
// valid from `now` (less 5 minutes of clock skew) for `validity`, with a
// random serial, naming `node`'s id as authority key id and `issuer`'s
// subject as issuer, signed with `key`, the key `issuer` is for.
Status fill_and_sign(gnutls_x509_crt_t crt, WallTime now, std::chrono::seconds validity, const char* purpose,
                     unsigned key_usage, const NodeIdentity& node, gnutls_x509_crt_t issuer,
                     const dht::crypto::PrivateKey& key) {
    set_validity(crt, now, validity);
    gnutls_x509_crt_set_basic_constraints(crt, 0, -1);
    gnutls_x509_crt_set_key_usage(crt, key_usage);
    gnutls_x509_crt_set_key_purpose_oid(crt, purpose, 0);
    // The issuing node by its id: what a holder of the roster looks it up by.
    const auto issuer_id = node.node_id();
    if (const int named = gnutls_x509_crt_set_authority_key_id(crt, issuer_id.data(), issuer_id.size()); named < 0)
        return gnutls_failed("cannot name the issuer", named);
    // Ed25519 hashes the data itself (SHA-512 is the name GnuTLS gives that).
    const auto digest = is_fast_key(key) ? GNUTLS_DIG_SHA512 : GNUTLS_DIG_SHA256;
    const int rc = gnutls_x509_crt_privkey_sign(crt, issuer, key.key, digest, 0);
    return rc < 0 ? gnutls_failed("cannot sign the certificate", rc) : Status::ok();
}

// GnuTLS signs a certificate only in the name of a certificate for the
// signing key. For the fast key, that is one it signs itself, made here
// for the purpose and never shown: nobody checks a user certificate
// against it, but against the fast key the roster lists.
Status fast_issuer(const NodeIdentity& node, WallTime now, Crt& out) {
    Crt made;
    DHTALK_TRY(for_fast_key(made.h, node));
    set_validity(made.h, now, std::chrono::hours(1));
    gnutls_x509_crt_set_basic_constraints(made.h, 1, -1);
    if (const int rc = gnutls_x509_crt_privkey_sign(made.h, made.h, node.fast_key->key, GNUTLS_DIG_SHA512, 0); rc < 0)
        return gnutls_failed("cannot sign the issuing certificate", rc);
    return read_back(made.h, out);
}

}  // namespace

Result<std::shared_ptr<dht::crypto::PrivateKey>> generate_user_key() { return generate_fast_key(); }

Result<std::string> make_certificate_request(const dht::crypto::PrivateKey& key, std::string_view user_id) {
    Crq crq;
    int rc = gnutls_x509_crq_set_dn_by_oid(crq.h, GNUTLS_OID_X520_COMMON_NAME, 0, user_id.data(),
                                           static_cast<unsigned>(user_id.size()));
    if (rc < 0) return gnutls_failed("cannot name the certificate request", rc);
    if ((rc = gnutls_x509_crq_set_version(crq.h, 1)) < 0) return gnutls_failed("cannot version the request", rc);
    if ((rc = gnutls_x509_crq_set_key(crq.h, key.x509_key)) < 0) return gnutls_failed("cannot set the key", rc);
    // No digest named: GnuTLS takes the key's own (Ed25519 signs the data whole).
    if ((rc = gnutls_x509_crq_privkey_sign(crq.h, key.key, GNUTLS_DIG_UNKNOWN, 0)) < 0)
        return gnutls_failed("cannot sign the request", rc);
    Datum out;
    if ((rc = gnutls_x509_crq_export2(crq.h, GNUTLS_X509_FMT_PEM, &out.d)) < 0)
        return gnutls_failed("cannot export the request", rc);
    return out.str();
}

Result<std::string> issue_user_certificate(const IssueRequest& r, const NodeIdentity& issuer) {
    if (r.csr_pem.empty() || r.csr_pem.size() > kMaxCertificateRequestBytes)
        return Status::invalid("the certificate request is empty or larger than " +
                               std::to_string(kMaxCertificateRequestBytes) + " bytes");
    Crq crq;
    const gnutls_datum_t in{reinterpret_cast<unsigned char*>(const_cast<char*>(r.csr_pem.data())),
                            static_cast<unsigned>(r.csr_pem.size())};
    if (gnutls_x509_crq_import(crq.h, &in, GNUTLS_X509_FMT_PEM) < 0)
        return Status::invalid("the certificate request is not a PEM certificate request");
    Pubkey pub;
    if (gnutls_pubkey_import_x509_crq(pub.h, crq.h, 0) < 0)
        return Status::invalid("the certificate request carries no usable public key");
    // The key is checked before its signature: a huge exponent makes that costly.
    if (Status key = check_public_key(pub.h); !key) return Status::invalid("the certificate request: " + key.message());
    if (gnutls_x509_crq_verify(crq.h, 0) < 0)
        return Status::invalid("the certificate request is not signed by its own key");
    if (gnutls_pubkey_get_pk_algorithm(pub.h, nullptr) != GNUTLS_PK_EDDSA_ED25519)
        return Status::invalid("the certificate request's key must be Ed25519 (an RSA key is an older dhtalk "
                               "client's: update it)");

    Crt crt;
    int rc = gnutls_x509_crt_set_pubkey(crt.h, pub.h);
    if (rc < 0) return gnutls_failed("cannot set the key", rc);
    const std::string org = network_org(r.network_id);
    if ((rc = gnutls_x509_crt_set_dn_by_oid(crt.h, GNUTLS_OID_X520_COMMON_NAME, 0, r.user_id.data(),
                                            static_cast<unsigned>(r.user_id.size()))) < 0 ||
        (rc = gnutls_x509_crt_set_dn_by_oid(crt.h, GNUTLS_OID_X520_ORGANIZATION_NAME, 0, org.data(),
                                            static_cast<unsigned>(org.size()))) < 0)
        return gnutls_failed("cannot name the certificate", rc);
    if (!issuer.fast_key) return Status::invalid("the node identity has no fast key");
    // Signed with the fast key the roster lists for the node: 30 us, where
    // its RSA-3072 key took 3 ms of every registration.
    Crt signer;
    DHTALK_TRY(fast_issuer(issuer, r.now, signer));
    DHTALK_TRY(fill_and_sign(crt.h, r.now, r.validity, GNUTLS_KP_TLS_WWW_CLIENT, GNUTLS_KEY_DIGITAL_SIGNATURE, issuer,
                             signer.h, *issuer.fast_key));
    Datum out;
    if ((rc = gnutls_x509_crt_export2(crt.h, GNUTLS_X509_FMT_PEM, &out.d)) < 0)
        return gnutls_failed("cannot export the certificate", rc);
    return out.str();
}

Result<std::shared_ptr<dht::crypto::Certificate>> make_tls_certificate(const NodeIdentity& node, WallTime now,
                                                                       std::chrono::seconds validity) {
    if (!node.fast_key) return Status::invalid("the node identity has no fast key");
    Crt crt;
    DHTALK_TRY(for_fast_key(crt.h, node));
    // Signed by the identity: the certificate is what ties the fast key to it.
    DHTALK_TRY(fill_and_sign(crt.h, now, validity, GNUTLS_KP_TLS_WWW_SERVER, GNUTLS_KEY_DIGITAL_SIGNATURE, node,
                             node.certificate->cert, *node.key));
    Crt back;
    DHTALK_TRY(read_back(crt.h, back));
    auto out = std::make_shared<dht::crypto::Certificate>(back.h);  // owns the handle from here
    back.h = nullptr;
    return out;
}

Result<NodeCertificateInfo> inspect_tls_certificate(const dht::crypto::Certificate& cert) {
    if (!cert.cert) return Status::invalid("no certificate");
    if (gnutls_x509_crt_get_pk_algorithm(cert.cert, nullptr) != GNUTLS_PK_EDDSA_ED25519)
        return Status::invalid("its certificate is not for an Ed25519 fast key (a node of an older dhtalk)");
    auto issuer = issuing_node(cert.cert, "its certificate");
    if (!issuer) return issuer.status();
    NodeCertificateInfo info;
    info.issuer_node_id = std::move(issuer).value();
    info.not_before_s = gnutls_x509_crt_get_activation_time(cert.cert);
    info.not_after_s = gnutls_x509_crt_get_expiration_time(cert.cert);
    return info;
}

bool is_device_id(std::string_view id) {
    return id.size() == kDeviceIdChars &&
           std::all_of(id.begin(), id.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

Result<UserCertificateInfo> inspect_user_certificate(const dht::crypto::Certificate& cert) {
    if (!cert.cert) return Status::invalid("no certificate");
    if (gnutls_x509_crt_get_pk_algorithm(cert.cert, nullptr) != GNUTLS_PK_EDDSA_ED25519)
        return Status::invalid("a user certificate for a key that is not Ed25519, from an older dhtalk: register again");
    if (gnutls_x509_crt_get_signature_algorithm(cert.cert) != GNUTLS_SIGN_EDDSA_ED25519)
        return Status::invalid("a user certificate its node signed with RSA, from an older dhtalk: register again");
    UserCertificateInfo info;
    auto cn = dn_field(cert.cert, GNUTLS_OID_X520_COMMON_NAME);
    if (!cn) return cn.status();
    info.user_id = std::move(cn).value();
    auto org = dn_field(cert.cert, GNUTLS_OID_X520_ORGANIZATION_NAME);
    if (!org) return org.status();
    unsigned network = 0;
    char tail = 0;
    if (std::sscanf(org->c_str(), "dhtalk network %8x%c", &network, &tail) != 1 || org->size() != 23)
        return Status::invalid("the certificate names no dhtalk network");
    info.network_id = network;
    auto issuer = issuing_node(cert.cert, "the certificate");
    if (!issuer) return issuer.status();
    info.issuer_node_id = std::move(issuer).value();
    info.not_before_s = gnutls_x509_crt_get_activation_time(cert.cert);
    info.not_after_s = gnutls_x509_crt_get_expiration_time(cert.cert);
    unsigned char key_id[32];
    size_t key_id_size = sizeof key_id;
    if (gnutls_x509_crt_get_key_id(cert.cert, GNUTLS_KEYID_USE_SHA256, key_id, &key_id_size) < 0 || key_id_size < 8)
        return Status::invalid("the certificate's key has no id");
    info.device_id = to_hex(std::string_view(reinterpret_cast<const char*>(key_id), kDeviceIdChars / 2));
    return info;
}

bool signed_by(const dht::crypto::Certificate& cert, const dht::crypto::Certificate& issuer) {
    if (!cert.cert || !issuer.cert) return false;
    unsigned status = 0;
    // Time is checked by the caller against its own clock; node certificates
    // are self-signed CAs in OpenDHT but need not say so.
    const int rc = gnutls_x509_crt_verify(cert.cert, &issuer.cert, 1,
                                          GNUTLS_VERIFY_DISABLE_CA_SIGN | GNUTLS_VERIFY_DISABLE_TIME_CHECKS |
                                              GNUTLS_VERIFY_DISABLE_TRUSTED_TIME_CHECKS,
                                          &status);
    return rc == 0 && status == 0;
}

namespace {

// The DER of a certificate's tbsCertificate, what its issuer signed: the
// first element of the outer SEQUENCE. Empty if `der` is not shaped so.
std::string_view signed_part(std::string_view der) {
    // One TLV: tag, then a short length or 0x8N and N length bytes.
    auto element = [](std::string_view in, size_t& header) -> size_t {
        if (in.size() < 2) return 0;
        const auto first = static_cast<uint8_t>(in[1]);
        size_t length = first, bytes = 0;
        if (first & 0x80) {
            bytes = first & 0x7f;
            if (bytes == 0 || bytes > 4 || in.size() < 2 + bytes) return 0;
            length = 0;
            for (size_t i = 0; i < bytes; ++i) length = (length << 8) | static_cast<uint8_t>(in[2 + i]);
        }
        header = 2 + bytes;
        return in.size() - header < length ? 0 : header + length;
    };
    size_t outer_header = 0, inner_header = 0;
    if (der.empty() || der[0] != 0x30 || element(der, outer_header) == 0) return {};
    const std::string_view body = der.substr(outer_header);
    if (body.empty() || body[0] != 0x30) return {};
    const size_t tbs = element(body, inner_header);
    return tbs == 0 ? std::string_view() : body.substr(0, tbs);
}

}  // namespace

bool issued_with_fast_key(const dht::crypto::Certificate& cert, std::string_view fast_key) {
    if (!cert.cert || gnutls_x509_crt_get_signature_algorithm(cert.cert) != GNUTLS_SIGN_EDDSA_ED25519) return false;
    Datum der;
    if (gnutls_x509_crt_export2(cert.cert, GNUTLS_X509_FMT_DER, &der.d) < 0) return false;
    const std::string whole = der.str();
    const std::string_view tbs = signed_part(whole);
    if (tbs.empty()) return false;
    std::array<char, kFastSignatureBytes + 1> signature;
    size_t size = signature.size();
    if (gnutls_x509_crt_get_signature(cert.cert, signature.data(), &size) < 0 || size != kFastSignatureBytes) return false;
    return verify_fast(fast_key, tbs, std::string_view(signature.data(), size));
}

Status check_user_certificate(const UserCertificateInfo& info, uint32_t network_id, WallTime now) {
    if (info.network_id != network_id) return Status::denied("the certificate belongs to another network");
    const int64_t t = to_unix_seconds(now);
    if (t < info.not_before_s) return Status::denied("the certificate is not valid yet");
    if (t > info.not_after_s) return Status::denied("the certificate has expired: register again");
    return Status::ok();
}

}  // namespace dhtalk::crypto
