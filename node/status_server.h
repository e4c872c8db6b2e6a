#pragma once
// StatusServer: serves GET /status (JSON) and GET /metrics (Prometheus text)
// over HTTP, on loopback by default, from a callback that reads the node's
// figures. Runs cpp-httplib on its own thread; the callback is called on
// that thread and must be thread-safe. Anything but these two GETs gets 404
// or 405; request size and time are bounded.

#include <functional>
#include <memory>
#include <string>

#include <json/json.h>

#include "common/status.h"
#include "node/admin_secret.h"
#include "node/http_listener.h"
#include "node/node_status.h"

namespace httplib {
class Server;
}

namespace dhtalk {

// The operator's side of the trusted network, served under /admin/ to
// local callers that present the data directory's admin secret:
//   GET  /admin/pending   the roster and open proposals (JSON)
//   POST /admin/vote      {"change": "admit"|"ban", "node_id": ..., "decision": "approve"|"reject", "reason": ...}
class AdminHandler {
public:
    virtual ~AdminHandler() = default;
    virtual Result<Json::Value> admin_pending() = 0;
    virtual Status admin_vote(const Json::Value& request) = 0;
    virtual Result<Json::Value> admin_audit(uint32_t days) = 0;
};

class StatusServer {
public:
    using Provider = std::function<NodeStatus()>;

    // Binds `address:port` (port 0: any free port) and starts serving.
    // With `admin` (which must outlive the server), also the admin routes,
    // for requests from loopback carrying `admin_secret`.
    static Result<std::unique_ptr<StatusServer>> start(const std::string& address, uint16_t port, Provider provider,
                                                       AdminHandler* admin = nullptr, std::string admin_secret = {});
    ~StatusServer();

    uint16_t port() const { return port_; }
    void stop();

private:
    StatusServer() = default;

    std::unique_ptr<httplib::Server> server_;
    HttpListener listener_;  // declared after server_: stops before it goes
    uint16_t port_ = 0;
};

}  // namespace dhtalk
