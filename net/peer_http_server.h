#pragma once
// PeerHttpServer: the small HTTP/1.1 server under the peer service. It
// exists because cpp-httplib's server bounds each read, not a request: a
// sender trickling a byte every few seconds held one of its few threads for
// as long as it liked, and a handful of them silenced a node's peer service.
// Here one thread polls every connection and drops a request that has not
// fully arrived by its deadline, and an answer not taken by its own; one
// client address (IPv6 by /64) holds only a few connections at once, and
// the bytes buffered both ways are bounded; a complete request goes to a
// small pool of handler threads, so a slow peer costs a socket, never a
// thread. A connection over a limit is answered 503, so its caller knows
// the request was not heard.
//
// What it reads: a request line, headers (bounded in bytes), and a body of
// Content-Length bytes (bounded); no chunked bodies, no pipelining. Every
// answer half-closes its connection, which is closed once the peer closes
// (or after 2 s), so that unread bytes do not reset the answer away. Malformed requests are answered 400, an
// oversized head 431 and body 413, a chunked one 501, before any handler
// runs. Thread-safety: the handler runs on the pool's threads, several at
// once; start() and stop() from the owner.

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "common/status.h"
#include "net/http_message.h"

namespace dhtalk {

struct PeerHttpLimits {
    size_t max_head_bytes = 16 * 1024;          // request line and headers
    size_t max_body_bytes = 1 << 20;
    std::chrono::milliseconds request_deadline{std::chrono::seconds(5)};   // from accept to the last body byte
    std::chrono::milliseconds response_deadline{std::chrono::seconds(30)}; // to write the answer
    size_t max_connections = 512;
    size_t max_connections_per_address = 256;  // a loopback network of 200 members shares one
    // Request bodies announced and answers not yet taken, each in all: past
    // it new requests are answered 503 (a roster answer is up to 16 MiB).
    size_t max_buffered_bytes = 64u << 20;
    size_t handler_threads = 4;
};

class PeerHttpServer {
public:
    using Handler = std::function<HttpResponse(const HttpRequest&)>;

    // Listens on TCP `host:port` (port 0: a free one). kBusy if it cannot bind.
    static Result<std::unique_ptr<PeerHttpServer>> start(const std::string& host, uint16_t port, PeerHttpLimits limits,
                                                         Handler handler);
    ~PeerHttpServer();
    PeerHttpServer(const PeerHttpServer&) = delete;
    PeerHttpServer& operator=(const PeerHttpServer&) = delete;

    uint16_t port() const;
    // Closes every connection and waits for running handlers; no handler runs after.
    void stop();

    // Connections dropped at their deadline or refused for a full table, so far.
    uint64_t dropped() const;

private:
    struct Impl;
    explicit PeerHttpServer(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace dhtalk
