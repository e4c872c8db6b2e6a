#pragma once
// MemoryFront: a node's client front end in memory, for simulations. It
// stands where ClientServer (TLS over TCP) stands and calls the node's real
// ClientHandler (the ClientService) the same way: a session that logs in is
// checked with authenticate(), then opened(); each request goes to handle();
// pushes are kept per session for the simulation to read. What the TLS
// server bounds (rates, sizes, idle time) is the transport's and is not
// repeated here.
//
// Single-threaded, like everything on simulated time: replies and pushes
// arrive on the thread that runs the network.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "node/front/client_server.h"

namespace dhtalk {

class MemoryFront final : public ClientFront {
public:
    explicit MemoryFront(ClientHandler& handler) : handler_(handler) {}
    ~MemoryFront() override { stop(); }

    // A new session from `address`, logged in with `certificate` if given:
    // its id, or why the login was refused.
    Result<uint64_t> open(const std::string& address, const std::shared_ptr<dht::crypto::Certificate>& certificate);
    void close(uint64_t session);
    // Sends a request; its reply lands in reply(session, id) when the node gives it.
    uint64_t request(uint64_t session, const std::string& method, FrameParams params);
    // The reply to request `id`, once it came.
    std::optional<ClientFrame> reply(uint64_t session, uint64_t id) const;
    // Frames pushed to the session (presence), in order.
    const std::vector<ClientFrame>& pushed(uint64_t session) const;

    // ClientFront
    uint16_t port() const override { return 0; }
    ClientServerStats stats() const override { return stats_; }
    void push(uint64_t session, ClientFrame frame) override;
    void set_credentials(std::shared_ptr<crypto::TlsCredentials>) override {}  // sessions in memory have no TLS
    void stop() override;

private:
    struct Session {
        ClientSession info;
        uint64_t next_request = 1;
        std::map<uint64_t, ClientFrame> replies;
        std::vector<ClientFrame> pushed;
    };
    ClientHandler& handler_;
    std::map<uint64_t, std::shared_ptr<Session>> sessions_;
    uint64_t next_session_ = 1;
    bool stopped_ = false;
    ClientServerStats stats_;
};

}  // namespace dhtalk
