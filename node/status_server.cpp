#include "node/status_server.h"

#include <httplib.h>

#include "common/json.h"
#include "common/log.h"

namespace dhtalk {

Result<std::unique_ptr<StatusServer>> StatusServer::start(const std::string& address, uint16_t port,
                                                          Provider provider) {
    std::unique_ptr<StatusServer> s(new StatusServer());
    s->server_ = std::make_unique<httplib::Server>();
    auto& srv = *s->server_;
    srv.set_payload_max_length(4096);
    srv.set_read_timeout(5, 0);
    srv.set_write_timeout(5, 0);
    srv.set_keep_alive_max_count(16);
    srv.Get("/status", [provider](const httplib::Request&, httplib::Response& res) {
        res.set_content(json::to_pretty(to_json(provider())) + "\n", "application/json");
    });
    srv.Get("/metrics", [provider](const httplib::Request&, httplib::Response& res) {
        res.set_content(to_prometheus(provider()), "text/plain; version=0.0.4");
    });
    int bound = port;
    try {
        if (port == 0) {
            bound = srv.bind_to_any_port(address);
        } else if (!srv.bind_to_port(address, port)) {
            bound = -1;
        }
    } catch (const std::exception& e) {
        return Status::busy("cannot serve HTTP on " + address + ":" + std::to_string(port) + ": " + e.what());
    }
    if (bound <= 0)
        return Status::busy("cannot serve HTTP on " + address + ":" + std::to_string(port) +
                            " (address not local, or port in use)");
    s->port_ = static_cast<uint16_t>(bound);
    s->thread_ = std::thread([&srv] {
        if (!srv.listen_after_bind()) DHTALK_LOG(kError, "http", "the status server stopped unexpectedly");
    });
    return s;
}

StatusServer::~StatusServer() { stop(); }

void StatusServer::stop() {
    if (server_) server_->stop();
    if (thread_.joinable()) thread_.join();
}

}  // namespace dhtalk
