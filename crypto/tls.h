#pragma once
// TLS 1.3 with GnuTLS for the client front end: credentials and sessions as
// RAII owners of the GnuTLS handles. Node and client authenticate with the
// X.509 certificates dhtalk already has (the node's identity, the user's
// certificate); who may connect is decided by the caller from
// peer_certificate(), not by a CA store. Sessions run over a socket the
// caller owns (blocking or not); a send to a peer that has gone fails with
// an error and never raises SIGPIPE. A handshake ends with
// GNUTLS_E_CERTIFICATE_ERROR when the peer's key is one check_public_key()
// refuses (signing.h), before its signature is checked.
//
// Resumption (TLS 1.3 session tickets): a server whose credentials have
// tickets enabled gives each client a ticket after the handshake; a client
// keeps the latest ticket of each endpoint in its credentials and offers it
// on its next connection there, which then skips the certificate signature
// and its check. The ticket carries the certificates both sides presented,
// so peer_certificate() answers on a resumed session too. One thread per
// session at a time; credentials are thread-safe.

#include <map>
#include <memory>
#include <mutex>
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

    // Server: issue session tickets, under a key made now (kept in memory:
    // a restarted server makes every client do a full handshake once).
    Status enable_session_tickets();
    const gnutls_datum_t* ticket_key() const { return ticket_key_.data ? &ticket_key_ : nullptr; }

    // Client: the latest session ticket from `endpoint` (empty: none), kept
    // for the next connection there.
    void remember_session(const std::string& endpoint, std::string data);
    std::string session_for(const std::string& endpoint) const;
    void forget_session(const std::string& endpoint);

private:
    TlsCredentials() = default;
    gnutls_certificate_credentials_t cred_ = nullptr;
    gnutls_datum_t ticket_key_{nullptr, 0};
    mutable std::mutex sessions_mutex_;
    std::map<std::string, std::string> sessions_;  // guarded by sessions_mutex_; endpoint -> ticket data
};

class TlsSession {
public:
    enum class Role { kServer, kClient };
    // A session on socket `fd` (not owned). A server asks for, but does not
    // require, a client certificate. A client with `resume` (ticket data
    // from TlsCredentials::session_for) offers to resume that session.
    // `credentials` must outlive the session.
    static Result<std::unique_ptr<TlsSession>> open(Role role, int fd, const TlsCredentials& credentials,
                                                    const std::string& resume = {});
    ~TlsSession();
    TlsSession(const TlsSession&) = delete;
    TlsSession& operator=(const TlsSession&) = delete;

    gnutls_session_t get() const { return session_; }
    // The certificate the peer presented in the handshake, or null. GnuTLS
    // has checked that the peer holds its private key; nothing else.
    std::shared_ptr<dht::crypto::Certificate> peer_certificate() const;
    // Whether the handshake resumed an earlier session.
    bool resumed() const;
    // Client: the ticket the server gave for this session, once it has come
    // (it follows the handshake, so after the first data received); empty before.
    std::string ticket() const;

private:
    TlsSession() = default;
    gnutls_session_t session_ = nullptr;
};

}  // namespace dhtalk::crypto
