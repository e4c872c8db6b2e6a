#include "net/udp_socket.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <mutex>

#include "common/log.h"

namespace dhtalk {
namespace {

// The kernel's queue is where datagrams wait while the receive thread runs
// OpenDHT on the last ones (the overlay's loop_on_receive); its default
// (208 KiB on Debian, some 300 small datagrams) overflowed under 1,000
// sessions' resolves, and each lost reply held a get for OpenDHT's 1 s
// timeout. The kernel caps the size at net.core.rmem_max.
constexpr int kReceiveBufferBytes = 4 << 20;

void ask_receive_buffer(int fd) {
    int got = 0;
    socklen_t len = sizeof got;
    // A host whose default is larger already: asking would shrink it.
    if (::getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &len) == 0 && got >= kReceiveBufferBytes) return;
    int want = kReceiveBufferBytes;
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof want);
    // Linux reports twice what it grants (the other half is its overhead).
    if (::getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &len) == 0 && got / 2 < want) {
        static std::once_flag logged;
        std::call_once(logged, [granted = got / 2] {
            DHTALK_LOG(kInfo, "udp", "the DHT socket's receive buffer is " << granted / 1024 << " KiB, not the "
                                     << (kReceiveBufferBytes >> 20) << " MiB asked for: net.core.rmem_max caps it, "
                                     << "and a busy node should raise it (see docs/operations.md)");
        });
    }
}

// Binds a UDP socket of the address's family; returns the descriptor and
// fills `bound` with the address the system gave.
Result<int> bind_udp(const dht::SockAddr& addr, dht::SockAddr& bound) {
    const int fd = ::socket(addr.getFamily(), SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return Status::io_error(std::string("cannot create a UDP socket: ") + std::strerror(errno));
    if (addr.getFamily() == AF_INET6) {
        const int on = 1;
        ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);  // the IPv4 socket takes IPv4
    }
    ask_receive_buffer(fd);
    if (::bind(fd, addr.get(), addr.getLength()) != 0) {
        const int err = errno;
        ::close(fd);
        return Status(err == EADDRINUSE ? Code::kBusy : Code::kIoError,
                      "cannot bind UDP " + addr.toString() + ": " + std::strerror(err));
    }
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
    bound = dht::SockAddr(ss, len);
    return fd;
}

}  // namespace

Result<std::unique_ptr<UdpSocket>> UdpSocket::open(const dht::SockAddr& bind4, const dht::SockAddr& bind6,
                                                   std::shared_ptr<DatagramCounters> counters) {
    std::unique_ptr<UdpSocket> s(new UdpSocket());
    s->counters_ = std::move(counters);
    if (bind4) {
        auto fd = bind_udp(bind4, s->bound4_);
        if (!fd) return fd.status();
        s->fd4_ = *fd;
    }
    if (bind6) {
        dht::SockAddr want = bind6;
        if (want.getPort() == 0 && s->fd4_ >= 0) want.setPort(s->bound4_.getPort());  // one port for both
        auto fd = bind_udp(want, s->bound6_);
        if (!fd && want.getPort() != bind6.getPort()) {
            want.setPort(0);
            fd = bind_udp(want, s->bound6_);
        }
        if (fd) {
            s->fd6_ = *fd;
        } else if (s->fd4_ < 0) {
            return fd.status();
        } else {
            // A host without IPv6 still runs on IPv4.
            DHTALK_LOG(kInfo, "udp", "no IPv6: " << fd.status().message());
        }
    }
    if (s->fd4_ < 0 && s->fd6_ < 0) return Status::invalid("no address to bind");
    s->wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (s->wake_fd_ < 0) return Status::io_error(std::string("cannot create an eventfd: ") + std::strerror(errno));
    s->running_ = true;
    s->receiver_ = std::thread([raw = s.get()] { raw->receive_loop(); });
    return s;
}

UdpSocket::~UdpSocket() {
    stop();
    for (int fd : {fd4_, fd6_, wake_fd_})
        if (fd >= 0) ::close(fd);
}

void UdpSocket::stop() {
    if (running_.exchange(false)) {
        const uint64_t one = 1;
        if (::write(wake_fd_, &one, sizeof one) < 0) {
            // eventfd writes fail only on counter overflow; the thread is waking anyway.
        }
    }
    if (receiver_.joinable() && receiver_.get_id() != std::this_thread::get_id()) receiver_.join();
}

int UdpSocket::sendTo(const dht::SockAddr& dest, const uint8_t* data, size_t size, bool replied) {
    if (!dest) return EFAULT;
    const int fd = dest.getFamily() == AF_INET ? fd4_ : dest.getFamily() == AF_INET6 ? fd6_ : -1;
    if (fd < 0) return EAFNOSUPPORT;
    const int flags = MSG_NOSIGNAL | (replied ? MSG_CONFIRM : 0);
    if (::sendto(fd, data, size, flags, dest.get(), dest.getLength()) < 0) {
        counters_->send_errors++;
        return errno;
    }
    counters_->datagrams_out++;
    counters_->bytes_out += size;
    return 0;
}

void UdpSocket::receive_loop() {
    // The largest UDP payload; OpenDHT's own messages are far smaller.
    std::array<uint8_t, 65536> buf;
    std::array<pollfd, 3> fds{{{wake_fd_, POLLIN, 0}, {fd4_, POLLIN, 0}, {fd6_, POLLIN, 0}}};
    while (running_) {
        const int n = ::poll(fds.data(), fds.size(), -1);  // negative descriptors are ignored
        if (n < 0) {
            if (errno == EINTR) continue;
            DHTALK_LOG(kError, "udp", "poll failed: " << std::strerror(errno));
            break;
        }
        if (fds[0].revents) break;
        // Handed up in one list: with loop_on_receive, one turn of OpenDHT
        // for what was drained rather than one per datagram.
        dht::net::PacketList batch;
        for (size_t i = 1; i < fds.size(); ++i) {
            if (!(fds[i].revents & POLLIN)) continue;
            // Drain what is queued, bounded so that one busy socket cannot starve the other.
            for (int budget = 64; budget > 0; --budget) {
                sockaddr_storage from{};
                socklen_t from_len = sizeof from;
                const ssize_t rc = ::recvfrom(fds[i].fd, buf.data(), buf.size(), 0,
                                              reinterpret_cast<sockaddr*>(&from), &from_len);
                if (rc < 0) break;  // EAGAIN: drained; other errors (ICMP feedback) are per-datagram
                counters_->datagrams_in++;
                counters_->bytes_in += static_cast<uint64_t>(rc);
                auto packets = getNewPacket();
                auto& p = packets.front();
                p.data.assign(buf.begin(), buf.begin() + rc);
                p.from = dht::SockAddr(from, from_len);
                p.received = dht::clock::now();
                batch.splice(batch.end(), packets);
            }
        }
        if (!batch.empty()) onReceived(std::move(batch));
    }
}

Result<std::unique_ptr<dht::net::DatagramSocket>> open_udp_datagram_socket(const dht::SockAddr& bind4,
                                                                          const dht::SockAddr& bind6,
                                                                          std::shared_ptr<DatagramCounters> counters) {
    auto udp = UdpSocket::open(bind4, bind6, std::move(counters));
    if (!udp) return udp.status();
    return std::unique_ptr<dht::net::DatagramSocket>(std::move(udp).value());
}

}  // namespace dhtalk
