#include "crypto/tls.h"

#include <gnutls/abstract.h>
#include <gnutls/x509.h>

#include "crypto/signing.h"

namespace dhtalk::crypto {
namespace {

// TLS 1.3 only. X25519 before P-256, and AES-128-GCM (whose key schedule
// hashes with SHA-256) before AES-256-GCM (SHA-384): GnuTLS's defaults put
// the costlier ones first, and the key exchange and the key schedule are
// most of what a resumed handshake costs (bench/handshake_bench).
constexpr const char* kPriorities =
    "NORMAL:-VERS-ALL:+VERS-TLS1.3:-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1:"
    "-CIPHER-ALL:+AES-128-GCM:+CHACHA20-POLY1305:+AES-256-GCM";

// Parsed once: parsing the priority string per session cost a measurable
// share of a resumed handshake.
gnutls_priority_t priorities() {
    static const gnutls_priority_t cache = [] {
        gnutls_priority_t p = nullptr;
        if (gnutls_priority_init(&p, kPriorities, nullptr) < 0) return gnutls_priority_t{nullptr};
        return p;
    }();
    return cache;
}

// Runs before GnuTLS checks the peer's CertificateVerify signature, with the
// peer's certificate already received: a key check_public_key() refuses
// ends the handshake before that signature costs anything.
int refuse_unacceptable_peer_key(gnutls_session_t session, unsigned, unsigned, unsigned incoming,
                                 const gnutls_datum_t*) {
    if (!incoming) return 0;  // our own CertificateVerify
    unsigned count = 0;
    const gnutls_datum_t* certs = gnutls_certificate_get_peers(session, &count);
    if (!certs || count == 0) return 0;
    gnutls_pubkey_t key = nullptr;
    if (gnutls_pubkey_init(&key) < 0) return GNUTLS_E_MEMORY_ERROR;
    std::unique_ptr<gnutls_pubkey_st, decltype(&gnutls_pubkey_deinit)> guard(key, gnutls_pubkey_deinit);
    if (gnutls_pubkey_import_x509_raw(key, &certs[0], GNUTLS_X509_FMT_DER, 0) < 0) return GNUTLS_E_CERTIFICATE_ERROR;
    return check_public_key(key) ? 0 : GNUTLS_E_CERTIFICATE_ERROR;
}

}  // namespace

Result<std::shared_ptr<TlsCredentials>> TlsCredentials::anonymous() {
    std::shared_ptr<TlsCredentials> c(new TlsCredentials());
    const int rc = gnutls_certificate_allocate_credentials(&c->cred_);
    if (rc < 0) return Status::internal(std::string("cannot allocate TLS credentials: ") + gnutls_strerror(rc));
    return c;
}

Result<std::shared_ptr<TlsCredentials>> TlsCredentials::with_certificate(const dht::crypto::Certificate& cert,
                                                                         const dht::crypto::PrivateKey& key) {
    auto c = anonymous();
    if (!c) return c.status();
    gnutls_x509_crt_t chain[] = {cert.cert};
    const int rc = gnutls_certificate_set_x509_key((*c)->cred_, chain, 1, key.x509_key);
    if (rc < 0) return Status::invalid(std::string("cannot use the certificate for TLS: ") + gnutls_strerror(rc));
    return c;
}

TlsCredentials::~TlsCredentials() {
    if (cred_) gnutls_certificate_free_credentials(cred_);
    if (ticket_key_.data) {
        gnutls_memset(ticket_key_.data, 0, ticket_key_.size);
        gnutls_free(ticket_key_.data);
    }
}

Status TlsCredentials::enable_session_tickets() {
    if (ticket_key_.data) return Status::ok();
    const int rc = gnutls_session_ticket_key_generate(&ticket_key_);
    if (rc < 0) return Status::internal(std::string("cannot make a session ticket key: ") + gnutls_strerror(rc));
    return Status::ok();
}

void TlsCredentials::remember_session(const std::string& endpoint, std::string data) {
    std::lock_guard lock(sessions_mutex_);
    sessions_[endpoint] = std::move(data);
}

std::string TlsCredentials::session_for(const std::string& endpoint) const {
    std::lock_guard lock(sessions_mutex_);
    auto it = sessions_.find(endpoint);
    return it == sessions_.end() ? std::string() : it->second;
}

void TlsCredentials::forget_session(const std::string& endpoint) {
    std::lock_guard lock(sessions_mutex_);
    sessions_.erase(endpoint);
}

Result<std::unique_ptr<TlsSession>> TlsSession::open(Role role, int fd, const TlsCredentials& credentials,
                                                     const std::string& resume) {
    std::unique_ptr<TlsSession> s(new TlsSession());
    // GNUTLS_NO_SIGNAL: a send to a peer that hung up fails with an error
    // instead of raising SIGPIPE, which would kill the whole program.
    int rc = gnutls_init(&s->session_,
                         (role == Role::kServer ? GNUTLS_SERVER : GNUTLS_CLIENT) | GNUTLS_NONBLOCK | GNUTLS_NO_SIGNAL);
    if (rc < 0) return Status::internal(std::string("cannot start a TLS session: ") + gnutls_strerror(rc));
    if (!priorities()) return Status::internal("GnuTLS refuses the TLS 1.3 priorities");
    if ((rc = gnutls_priority_set(s->session_, priorities())) < 0 ||
        (rc = gnutls_credentials_set(s->session_, GNUTLS_CRD_CERTIFICATE, credentials.get())) < 0)
        return Status::internal(std::string("cannot configure a TLS session: ") + gnutls_strerror(rc));
    if (role == Role::kServer) {
        gnutls_certificate_server_set_request(s->session_, GNUTLS_CERT_REQUEST);
        if (const gnutls_datum_t* key = credentials.ticket_key(); key &&
            (rc = gnutls_session_ticket_enable_server(s->session_, key)) < 0)
            return Status::internal(std::string("cannot enable session tickets: ") + gnutls_strerror(rc));
    } else if (!resume.empty()) {
        // Ticket data is GnuTLS's own, from an earlier session; one it cannot
        // use just means a full handshake.
        (void)gnutls_session_set_data(s->session_, resume.data(), resume.size());
    }
    gnutls_handshake_set_hook_function(s->session_, GNUTLS_HANDSHAKE_CERTIFICATE_VERIFY, GNUTLS_HOOK_PRE,
                                       refuse_unacceptable_peer_key);
    gnutls_transport_set_int(s->session_, fd);
    gnutls_handshake_set_timeout(s->session_, 0);  // the caller keeps the deadline
    return s;
}

TlsSession::~TlsSession() {
    if (session_) gnutls_deinit(session_);
}

bool TlsSession::resumed() const { return gnutls_session_is_resumed(session_) != 0; }

std::string TlsSession::ticket() const {
    if (!(gnutls_session_get_flags(session_) & GNUTLS_SFLAGS_SESSION_TICKET)) return {};
    gnutls_datum_t data{nullptr, 0};
    if (gnutls_session_get_data2(session_, &data) < 0) return {};
    std::string out(reinterpret_cast<const char*>(data.data), data.size);
    gnutls_free(data.data);
    return out;
}

std::shared_ptr<dht::crypto::Certificate> TlsSession::peer_certificate() const {
    unsigned count = 0;
    const gnutls_datum_t* certs = gnutls_certificate_get_peers(session_, &count);
    if (!certs || count == 0) return nullptr;
    // DER and nothing else: OpenDHT's constructor tries PEM first, and
    // GnuTLS finds a PEM block anywhere in its input, so a certificate for
    // the peer's own key that carries someone else's as text in an
    // extension would come out as that other certificate, whose key never
    // signed the handshake.
    gnutls_x509_crt_t crt = nullptr;
    if (gnutls_x509_crt_init(&crt) < 0) return nullptr;
    if (gnutls_x509_crt_import(crt, &certs[0], GNUTLS_X509_FMT_DER) < 0) {
        gnutls_x509_crt_deinit(crt);
        return nullptr;  // GnuTLS parsed it for the handshake; a failure here means no usable certificate
    }
    return std::make_shared<dht::crypto::Certificate>(crt);  // owns crt from here
}

}  // namespace dhtalk::crypto
