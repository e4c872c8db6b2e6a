#pragma once
// PeerNet: the stream transport under the peer service (node/trust/
// peer_service.h): listening for other nodes' requests, and asking them.
// tcp_peer_net() is HTTP/1.1 over TCP (peer_http_server.h to listen, a
// bounded HTTP client to ask); a simulation gives its own, which hands a
// request to the addressed node's handler in memory.
//
// Thread-safety: implementations are thread-safe; a listener's handler runs
// on the transport's threads (TCP) or on the asker's (in memory).

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/status.h"
#include "net/http_message.h"
#include "net/peer_http_server.h"

namespace dhtalk {

// The address a relaying member says a document first came from.
inline constexpr const char* kOriginHeader = "X-Dhtalk-Origin";

struct PeerCall {
    std::string method = "POST";
    std::string path;    // with the query, if any
    std::string body;
    std::string origin;  // sent as kOriginHeader when not empty
};

struct PeerAnswer {
    int status = 0;  // HTTP status
    std::string body;
};

class PeerListener {
public:
    virtual ~PeerListener() = default;
    virtual uint16_t port() const = 0;
    // No handler runs after it returns.
    virtual void stop() = 0;
};

class PeerNet {
public:
    using Handler = std::function<HttpResponse(const HttpRequest&)>;
    virtual ~PeerNet() = default;

    // Serves `handler` at `host:port` (port 0: a free one). kBusy if taken.
    virtual Result<std::unique_ptr<PeerListener>> listen(const std::string& host, uint16_t port,
                                                         const PeerHttpLimits& limits, Handler handler) = 0;
    // One request to the peer at `endpoint` (HOST:PORT), blocking and bounded
    // in time, reading at most `limit` bytes of the answer (kCorruption past
    // it): a peer cannot make this node buffer more. kUnavailable when no
    // connection could be made (the peer heard nothing), kTimeout when the
    // exchange failed after it (it may have).
    virtual Result<PeerAnswer> exchange(const std::string& endpoint, const PeerCall& call, size_t limit) = 0;
};

// HTTP/1.1 over TCP: connect within 2 s, read and write within 5 s.
PeerNet& tcp_peer_net();

}  // namespace dhtalk
