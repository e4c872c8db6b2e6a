#pragma once
// ClientServer: the client front end's transport. It accepts TLS 1.3
// connections on --client-port, runs each session's handshake and frames
// (client_protocol.h) on one I/O thread with epoll, and hands complete
// requests to a ClientHandler. A client that presents a user certificate is
// logged in as that user if the handler accepts the certificate; one that
// presents none may only use what needs no login (registration).
//
// Everything a client can grow is bounded: connections in total and per
// address, new connections per second per address (a tenth of the request
// rate, with a burst of twice the per-address session limit), frame size, requests per second per session and per address,
// requests in flight per session, handshake and idle time, and bytes waiting
// to be sent. A malformed frame gets an error frame and the connection is
// closed; it never affects another session. A logged-in session's
// certificate is checked again every recheck_interval, and the session ends
// (with an error frame) once the handler no longer accepts it.
//
// Thread-safety: the handler is called on the I/O thread only; a Reply may
// be called from any thread, once. stop() from the owner.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <opendht/crypto.h>

#include "common/clock.h"
#include "common/status.h"
#include "crypto/tls.h"
#include "crypto/user_certificate.h"
#include "net/client_protocol.h"

namespace dhtalk {

struct ClientServerConfig {
    std::string bind;  // empty: every interface
    uint16_t port = 0;
    size_t max_sessions = 4096;
    size_t max_sessions_per_address = 64;
    double requests_per_second = 50;  // per session, with a burst of twice that
    double address_requests_per_second = 200;  // per address, over all its sessions
    // Media chunks (media.put, media.get) a session moves per second, with a
    // burst of twice that: counted apart from other requests, so that a file
    // transfer (64 KiB a chunk) neither starves nor is starved by the rest.
    double media_requests_per_second = 200;
    size_t max_in_flight = 32;  // requests awaiting their reply, per session
    size_t max_queued_bytes = 1 << 20;  // reply bytes waiting to be sent, per session
    std::chrono::milliseconds handshake_timeout{std::chrono::seconds(10)};
    std::chrono::milliseconds idle_timeout{std::chrono::minutes(5)};
    // How often the logins of open sessions are checked again (an issuer
    // banned since, a certificate expired since: the session ends).
    std::chrono::milliseconds recheck_interval{std::chrono::seconds(10)};
};

struct ClientSession {
    uint64_t id = 0;
    // The client's address as per-address limits count it: an IPv4
    // address, or an IPv6 address's /64 (common/address_bucket.h).
    std::string address;
    std::optional<crypto::UserCertificateInfo> user;  // set when logged in
};

using ClientReply = std::function<void(ClientFrame)>;

class ClientHandler {
public:
    virtual ~ClientHandler() = default;
    // Whether the certificate a client logs in with is acceptable.
    virtual Result<crypto::UserCertificateInfo> authenticate(const dht::crypto::Certificate& cert) = 0;
    // Whether a login authenticate() accepted is still acceptable now (its
    // issuer still a member, its certificate still valid); cheap: it runs
    // for every logged-in session every recheck_interval.
    virtual Status recheck(const crypto::UserCertificateInfo& user) = 0;
    // Handles a request; `reply` must be called exactly once, from any thread.
    virtual void handle(const ClientSession& session, const ClientFrame& request, ClientReply reply) = 0;
    // A session was established (after its login, if any) or has ended.
    virtual void opened(const ClientSession&) {}
    virtual void closed(const ClientSession&) {}
};

struct ClientServerStats {
    uint64_t sessions = 0;          // open now
    uint64_t logged_in = 0;         // open now, with a user
    uint64_t accepted = 0;          // since start
    uint64_t refused_connections = 0;  // over a connection limit
    uint64_t failed_handshakes = 0;    // including refused certificates and timeouts
    uint64_t requests = 0;
    uint64_t rate_limited = 0;
    uint64_t malformed = 0;         // frames that closed their connection
};

// What the node needs of the transport its clients reach it by: TLS over
// TCP (ClientServer), or sessions in memory (a simulation).
class ClientFront {
public:
    virtual ~ClientFront() = default;
    virtual uint16_t port() const = 0;  // 0: no port (in memory)
    virtual ClientServerStats stats() const = 0;
    // Sends a frame the client did not ask for (id 0) to a session, if it is
    // still open. Any thread.
    virtual void push(uint64_t session, ClientFrame frame) = 0;
    // What new TLS sessions present from now on (a renewed certificate);
    // open sessions keep theirs. Any thread. A transport without TLS (in
    // memory) has nothing to present.
    virtual void set_credentials(std::shared_ptr<crypto::TlsCredentials> credentials) = 0;
    // Ends every session; no handler call starts after it returns.
    virtual void stop() = 0;
};

class ClientServer final : public ClientFront {
public:
    // Binds and starts the I/O thread. `credentials` hold the node's
    // certificate; `handler` and `clock` must outlive the server.
    static Result<std::unique_ptr<ClientServer>> start(const ClientServerConfig& config,
                                                       std::shared_ptr<crypto::TlsCredentials> credentials,
                                                       ClientHandler& handler, const Clock& clock);
    ~ClientServer() override;

    uint16_t port() const override { return port_; }
    ClientServerStats stats() const override;
    void push(uint64_t session, ClientFrame frame) override;
    void set_credentials(std::shared_ptr<crypto::TlsCredentials> credentials) override;
    // Closes every session and joins the I/O thread.
    void stop() override;

private:
    struct Impl;
    explicit ClientServer(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
    std::thread thread_;
    uint16_t port_ = 0;
};

}  // namespace dhtalk
