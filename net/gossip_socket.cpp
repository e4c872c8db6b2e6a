#include "net/gossip_socket.h"

#include <string>

namespace dhtalk {

GossipSocket::GossipSocket(std::unique_ptr<dht::net::DatagramSocket> inner) : inner_(std::move(inner)) {
    inner_->setOnReceive([this](dht::net::PacketList&& packets) { return on_inner_receive(std::move(packets)); });
}

GossipSocket::~GossipSocket() { inner_->stop(); }

void GossipSocket::set_handler(Handler handler) {
    std::lock_guard lock(handler_mutex_);
    handler_ = std::move(handler);
}

void GossipSocket::set_after_dht_receive(std::function<void()> callback) {
    std::lock_guard lock(handler_mutex_);
    after_dht_receive_ = std::move(callback);
}

int GossipSocket::send_gossip(const dht::SockAddr& dest, uint8_t channel, std::string_view bytes) {
    std::string framed;
    framed.reserve(bytes.size() + 2);
    framed.push_back(static_cast<char>(kMarker));
    framed.push_back(static_cast<char>(channel));
    framed.append(bytes);
    return inner_->sendTo(dest, reinterpret_cast<const uint8_t*>(framed.data()), framed.size(), false);
}

dht::net::PacketList GossipSocket::on_inner_receive(dht::net::PacketList&& packets) {
    dht::net::PacketList for_dht, consumed;
    while (!packets.empty()) {
        auto& p = packets.front();
        const bool gossip = p.data.size() >= 2 && p.data[0] == kMarker;
        if (gossip) {
            std::lock_guard lock(handler_mutex_);
            if (handler_)
                handler_(p.data[1], {reinterpret_cast<const char*>(p.data.data()) + 2, p.data.size() - 2}, p.from);
        }
        auto& dest = gossip ? consumed : for_dht;
        dest.splice(dest.end(), packets, packets.begin());
    }
    if (!for_dht.empty()) {
        hand_up(std::move(for_dht), consumed);
        std::lock_guard lock(handler_mutex_);
        if (after_dht_receive_) after_dht_receive_();
    }
    return consumed;  // the socket below reads into these again
}

}  // namespace dhtalk
