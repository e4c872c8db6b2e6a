#pragma once
// ClientConnection: one TLS session from a client to a node's front end
// (docs/protocol.md). Blocking calls with timeouts; requests may be
// pipelined with send() and receive(). A frame with id 0 and an error code
// is the node refusing the session (a login refused, a malformed frame):
// it is returned as that error. One thread at a time.

#include <chrono>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "crypto/tls.h"
#include "net/client_protocol.h"

namespace dhtalk::client {

class ClientConnection {
public:
    // Connects to HOST:PORT and completes the handshake, presenting
    // `credentials`' certificate if it has one, and resuming the session
    // the credentials keep for this endpoint if the node still takes its
    // ticket (the ticket it gives in turn is kept there once the first
    // frame is received). kUnavailable or kTimeout.
    static Result<std::unique_ptr<ClientConnection>> open(const std::string& endpoint,
                                                          std::shared_ptr<crypto::TlsCredentials> credentials,
                                                          std::chrono::milliseconds timeout);
    ~ClientConnection();

    // Sends a request and waits for its reply. A reply with an error code is
    // returned as a frame: the caller reads frame.status(). Frames that come
    // first (a push, the reply to a pipelined request) are kept for receive().
    Result<ClientFrame> call(const std::string& method, FrameParams params, std::chrono::milliseconds timeout);
    // Sends one request of `method` for each of `params` at once and waits
    // for all their replies, in the same order (each with its own status):
    // a window of requests in flight instead of one round trip each.
    Result<std::vector<ClientFrame>> call_batch(const std::string& method, std::vector<FrameParams> params,
                                                std::chrono::milliseconds timeout);
    // Sends a request without waiting; returns its id.
    Result<uint64_t> send(const std::string& method, FrameParams params);
    // The next frame from the node: first those call() kept, in order.
    Result<ClientFrame> receive(std::chrono::milliseconds timeout);

    // Sends bytes as they are, for probes and tests of the node's defences.
    Status send_raw(const std::string& bytes);

    const std::string& endpoint() const { return endpoint_; }
    // The socket, for a caller that waits on many connections at once
    // (poll() for POLLIN, then receive()); read and write only through this.
    int fd() const { return fd_; }
    // The certificate the node presented in the TLS handshake (it holds its key).
    std::shared_ptr<dht::crypto::Certificate> peer_certificate() const { return tls_->peer_certificate(); }
    bool resumed() const { return tls_->resumed(); }

private:
    ClientConnection() = default;
    Status write_all(const std::string& bytes, std::chrono::steady_clock::time_point deadline);
    Status wait(short events, std::chrono::steady_clock::time_point deadline);
    void keep_ticket();
    // The next frame on the wire.
    Result<ClientFrame> read_frame(std::chrono::milliseconds timeout);

    std::string endpoint_;
    int fd_ = -1;
    std::shared_ptr<crypto::TlsCredentials> credentials_;
    std::unique_ptr<crypto::TlsSession> tls_;
    FrameReader reader_{kMaxNodeFrameBytes};
    // Frames call() read that were not its reply. A node may push a presence
    // before its reply to the watch that brought it. Bounded: past it the
    // oldest go (a node pushes at most a bounded number meanwhile).
    static constexpr size_t kMaxKeptFrames = 1024;
    std::deque<ClientFrame> kept_;
    uint64_t next_id_ = 1;
    bool ticket_kept_ = false;
};

}  // namespace dhtalk::client
