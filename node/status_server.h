#pragma once
// StatusServer: serves GET /status (JSON) and GET /metrics (Prometheus text)
// over HTTP, on loopback by default, from a callback that reads the node's
// figures. Runs cpp-httplib on its own thread; the callback is called on
// that thread and must be thread-safe. Anything but these two GETs gets 404
// or 405; request size and time are bounded.

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "common/status.h"
#include "node/node_status.h"

namespace httplib {
class Server;
}

namespace dhtalk {

class StatusServer {
public:
    using Provider = std::function<NodeStatus()>;

    // Binds `address:port` (port 0: any free port) and starts serving.
    static Result<std::unique_ptr<StatusServer>> start(const std::string& address, uint16_t port, Provider provider);
    ~StatusServer();

    uint16_t port() const { return port_; }
    void stop();

private:
    StatusServer() = default;

    std::unique_ptr<httplib::Server> server_;
    std::thread thread_;
    uint16_t port_ = 0;
};

}  // namespace dhtalk
