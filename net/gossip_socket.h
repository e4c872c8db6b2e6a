#pragma once
// GossipSocket: lets dhtalk's own node-to-node protocols (membership,
// presence) share the DHT's socket, and so its port and its sealing. It sits
// between OpenDHT and the socket below (SealedSocket, or UdpSocket in open
// mode). A gossip datagram's payload is the marker byte 0xc1, a channel byte
// and the protocol's bytes; 0xc1 is the one byte msgpack never uses, so no
// OpenDHT message starts with it. Gossip datagrams go to the handler,
// everything else to OpenDHT, unchanged.
//
// Thread-safety: sendTo() from OpenDHT's thread, send_gossip() from any
// thread; the handler runs on the receiving thread and must only queue the
// bytes (it must not send from there).

#include <functional>
#include <memory>
#include <mutex>
#include <string_view>

#include "net/relay_socket.h"

namespace dhtalk {

class GossipSocket final : public RelaySocket {
public:
    static constexpr uint8_t kMarker = 0xc1;
    using Handler = std::function<void(uint8_t channel, std::string_view bytes, const dht::SockAddr& from)>;

    explicit GossipSocket(std::unique_ptr<dht::net::DatagramSocket> inner);
    ~GossipSocket() override;

    void set_handler(Handler handler);
    // Called after datagrams were handed to OpenDHT: a runner without a
    // thread of its own (driven by its owner) is woken to read them.
    void set_after_dht_receive(std::function<void()> callback);
    // Sends one gossip datagram; returns 0 or an errno, as sendTo does.
    int send_gossip(const dht::SockAddr& dest, uint8_t channel, std::string_view bytes);

    int sendTo(const dht::SockAddr& dest, const uint8_t* data, size_t size, bool replied) override {
        return inner_->sendTo(dest, data, size, replied);
    }
    bool hasIPv4() const override { return inner_->hasIPv4(); }
    bool hasIPv6() const override { return inner_->hasIPv6(); }
    const dht::SockAddr& getBoundRef(sa_family_t family) const override { return inner_->getBoundRef(family); }
    void stop() override { inner_->stop(); }

private:
    dht::net::PacketList on_inner_receive(dht::net::PacketList&& packets);

    std::mutex handler_mutex_;
    Handler handler_;  // guarded by handler_mutex_
    std::function<void()> after_dht_receive_;  // guarded by handler_mutex_
    // Destroyed first: its receive thread must stop before the handler goes.
    std::unique_ptr<dht::net::DatagramSocket> inner_;
};

}  // namespace dhtalk
