#pragma once
// FeedSocket: a datagram socket whose receive side the caller feeds, for
// tests and fuzz targets of the sockets stacked on one (sealed, gossip).
// feed() hands bytes up as if they had arrived from `from`, through the
// callback the socket above set, exactly as a UDP socket does; what is sent
// goes nowhere. Header-only, so that fuzz targets need no test library.
// Not thread-safe.

#include <opendht/network_utils.h>

namespace dhtalk::test {

class FeedSocket final : public dht::net::DatagramSocket {
public:
    explicit FeedSocket(dht::SockAddr bound) : bound_(std::move(bound)) {}

    void feed(const uint8_t* data, size_t size, const dht::SockAddr& from) {
        auto packets = getNewPacket();
        auto& p = packets.front();
        p.data.assign(data, data + size);
        p.from = from;
        p.received = dht::clock::now();
        onReceived(std::move(packets));
    }

    int sendTo(const dht::SockAddr&, const uint8_t*, size_t, bool) override { return 0; }
    bool hasIPv4() const override { return bound_.getFamily() == AF_INET; }
    bool hasIPv6() const override { return bound_.getFamily() == AF_INET6; }
    const dht::SockAddr& getBoundRef(sa_family_t family) const override {
        return family == bound_.getFamily() ? bound_ : none_;
    }
    void stop() override {}

private:
    dht::SockAddr bound_, none_;
};

}  // namespace dhtalk::test
