#pragma once
// TLS 1.3 with GnuTLS for the client front end: credentials and sessions as
// RAII owners of the GnuTLS handles. Node and client authenticate with the
// X.509 certificates dhtalk already has (the node's identity, the user's
// certificate); who may connect is decided by the caller from
// peer_certificate(), not by a CA store. Sessions run over a socket the
// caller owns (blocking or not); a send to a peer that has gone fails with
// an error and never raises SIGPIPE. A handshake ends with
// GNUTLS_E_CERTIFICATE_ERROR when the peer's key is one check_public_key()
// refuses (signing.h), before its signature is checked. One thread per
// session at a time.

#include <memory>
#include <string>

#include <gnutls/gnutls.h>
#include <opendht/crypto.h>

#include "common/status.h"

namespace dhtalk::crypto {

class TlsCredentials {
public:
    // Presents `cert` (with `key`) to the other side.
    static Result<std::shared_ptr<TlsCredentials>> with_certificate(const dht::crypto::Certificate& cert,
                                                                     const dht::crypto::PrivateKey& key);
    // Presents nothing (a client before it has a certificate).
    static Result<std::shared_ptr<TlsCredentials>> anonymous();
    ~TlsCredentials();
    TlsCredentials(const TlsCredentials&) = delete;
    TlsCredentials& operator=(const TlsCredentials&) = delete;
    gnutls_certificate_credentials_t get() const { return cred_; }

private:
    TlsCredentials() = default;
    gnutls_certificate_credentials_t cred_ = nullptr;
};

class TlsSession {
public:
    enum class Role { kServer, kClient };
    // A session on socket `fd` (not owned). A server asks for, but does not
    // require, a client certificate. `credentials` must outlive the session.
    static Result<std::unique_ptr<TlsSession>> open(Role role, int fd, const TlsCredentials& credentials);
    ~TlsSession();
    TlsSession(const TlsSession&) = delete;
    TlsSession& operator=(const TlsSession&) = delete;

    gnutls_session_t get() const { return session_; }
    // The certificate the peer presented in the handshake, or null. GnuTLS
    // has checked that the peer holds its private key; nothing else.
    std::shared_ptr<dht::crypto::Certificate> peer_certificate() const;

private:
    TlsSession() = default;
    gnutls_session_t session_ = nullptr;
};

}  // namespace dhtalk::crypto
