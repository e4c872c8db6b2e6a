#pragma once
// UdpSocket: the real datagram transport under OpenDHT (given to DhtRunner
// through Context::sock), in place of OpenDHT's own. Ours waits with poll()
// rather than select(), so a descriptor >= 1024 no longer aborts the process
// (OpenDHT 2.4.12's trap), and it counts datagrams and bytes each way for
// the node's metrics. The sealed transport of the trusted network wraps this.
//
// One receive thread per socket hands what each wake drained to OpenDHT's
// callback in one list; it asks the kernel for a large receive queue;
// sendTo() may be called from any thread. Counters are shared so that they
// stay readable after OpenDHT has destroyed the socket.

#include <atomic>
#include <memory>
#include <thread>

#include <opendht/network_utils.h>

#include "common/status.h"

namespace dhtalk {

struct DatagramCounters {
    std::atomic<uint64_t> datagrams_in{0};
    std::atomic<uint64_t> datagrams_out{0};
    std::atomic<uint64_t> bytes_in{0};
    std::atomic<uint64_t> bytes_out{0};
    std::atomic<uint64_t> send_errors{0};
};

class UdpSocket final : public dht::net::DatagramSocket {
public:
    // Binds the given addresses (an empty SockAddr skips that family). With
    // port 0 the IPv6 socket tries the port the IPv4 one got. Fails when no
    // socket could be bound, or a given address could not.
    static Result<std::unique_ptr<UdpSocket>> open(const dht::SockAddr& bind4, const dht::SockAddr& bind6,
                                                   std::shared_ptr<DatagramCounters> counters);
    ~UdpSocket() override;

    int sendTo(const dht::SockAddr& dest, const uint8_t* data, size_t size, bool replied) override;
    bool hasIPv4() const override { return fd4_ >= 0; }
    bool hasIPv6() const override { return fd6_ >= 0; }
    const dht::SockAddr& getBoundRef(sa_family_t family) const override {
        return family == AF_INET6 ? bound6_ : bound4_;
    }
    void stop() override;

private:
    UdpSocket() = default;
    void receive_loop();

    int fd4_ = -1;
    int fd6_ = -1;
    int wake_fd_ = -1;  // eventfd that ends receive_loop
    dht::SockAddr bound4_, bound6_;
    std::shared_ptr<DatagramCounters> counters_;
    std::atomic<bool> running_{false};
    std::thread receiver_;
};

// UdpSocket::open, as the plain socket the overlay's chain is built on.
Result<std::unique_ptr<dht::net::DatagramSocket>> open_udp_datagram_socket(const dht::SockAddr& bind4,
                                                                          const dht::SockAddr& bind6,
                                                                          std::shared_ptr<DatagramCounters> counters);

}  // namespace dhtalk
