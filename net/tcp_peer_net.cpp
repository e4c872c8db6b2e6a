#include <httplib.h>

#include "common/host_port.h"
#include "net/peer_net.h"

namespace dhtalk {
namespace {

class TcpListener final : public PeerListener {
public:
    explicit TcpListener(std::unique_ptr<PeerHttpServer> server) : server_(std::move(server)) {}
    uint16_t port() const override { return server_->port(); }
    void stop() override { server_->stop(); }

private:
    std::unique_ptr<PeerHttpServer> server_;
};

class TcpPeerNet final : public PeerNet {
public:
    Result<std::unique_ptr<PeerListener>> listen(const std::string& host, uint16_t port, const PeerHttpLimits& limits,
                                                 Handler handler) override {
        auto server = PeerHttpServer::start(host, port, limits, std::move(handler));
        if (!server) return server.status();
        return std::unique_ptr<PeerListener>(std::make_unique<TcpListener>(std::move(server).value()));
    }

    Result<PeerAnswer> exchange(const std::string& endpoint, const PeerCall& call, size_t limit) override {
        auto hp = parse_host_port(endpoint);
        if (!hp) return hp.status();
        httplib::Client client(hp->first, hp->second);
        client.set_connection_timeout(2, 0);
        client.set_tcp_nodelay(true);  // the body leaves at once, not after the head's acknowledgement
        client.set_read_timeout(5, 0);
        client.set_write_timeout(5, 0);
        PeerAnswer answer;
        bool too_long = false;
        httplib::Request req;
        req.method = call.method;
        req.path = call.path;
        if (!call.body.empty()) {
            req.body = call.body;
            req.set_header("Content-Type", "application/msgpack");
        }
        if (!call.origin.empty()) req.set_header(kOriginHeader, call.origin);
        req.content_receiver = [&](const char* data, size_t size, uint64_t, uint64_t) {
            if (answer.body.size() + size > limit) {
                too_long = true;
                return false;
            }
            answer.body.append(data, size);
            return true;
        };
        auto res = client.send(req);
        if (too_long)
            return Status::corruption(endpoint + " answered with more than " + std::to_string(limit) + " bytes");
        if (!res) {
            // Whether the request may have been heard: only a failed connection says it was not.
            const Code code = res.error() == httplib::Error::Connection ? Code::kUnavailable : Code::kTimeout;
            return Status(code, "cannot reach " + endpoint + ": " + httplib::to_string(res.error()));
        }
        answer.status = res->status;
        return answer;
    }
};

}  // namespace

PeerNet& tcp_peer_net() {
    static TcpPeerNet net;
    return net;
}

}  // namespace dhtalk
