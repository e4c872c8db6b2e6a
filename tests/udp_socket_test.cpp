// The UDP transport under OpenDHT: delivery and counters on loopback, clear
// errors for taken ports, and life with descriptors above 1024 (where
// OpenDHT 2.4.12's own select()-based socket aborts the process).
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <mutex>

#include "net/udp_socket.h"
#include "testing/test_util.h"

#include "tests/doctest.h"

using namespace dhtalk;
using namespace std::chrono_literals;

namespace {

dht::SockAddr loopback(uint16_t port) {
    auto a = dht::SockAddr::resolve("127.0.0.1").front();
    a.setPort(port);
    return a;
}

// Collects what a socket receives.
struct Inbox {
    std::mutex mutex;
    std::vector<std::string> payloads;  // guarded by mutex

    void attach(UdpSocket& s) {
        s.setOnReceive([this](dht::net::PacketList&& packets) {
            std::lock_guard lock(mutex);
            for (auto& p : packets) payloads.emplace_back(p.data.begin(), p.data.end());
            return dht::net::PacketList{};
        });
    }
    size_t size() {
        std::lock_guard lock(mutex);
        return payloads.size();
    }
};

std::unique_ptr<UdpSocket> open_loopback(const std::shared_ptr<DatagramCounters>& counters) {
    auto s = UdpSocket::open(loopback(0), dht::SockAddr(), counters);
    REQUIRE_MESSAGE(s.is_ok(), s.status().to_string());
    return std::move(s).value();
}

}  // namespace

TEST_CASE("datagrams arrive whole and are counted both ways") {
    auto ca = std::make_shared<DatagramCounters>(), cb = std::make_shared<DatagramCounters>();
    auto a = open_loopback(ca);
    auto b = open_loopback(cb);
    CHECK(a->hasIPv4());
    CHECK_FALSE(a->hasIPv6());
    CHECK(a->getBoundRef(AF_INET).getPort() != 0);
    Inbox inbox;
    inbox.attach(*b);
    const std::string big(60'000, 'z');
    for (const std::string& msg : {std::string("hello"), big})
        CHECK(a->sendTo(b->getBoundRef(AF_INET), reinterpret_cast<const uint8_t*>(msg.data()), msg.size(), false) ==
              0);
    REQUIRE(test::wait_until([&] { return inbox.size() == 2; }, 5s));
    CHECK(inbox.payloads[0] == "hello");
    CHECK(inbox.payloads[1] == big);
    CHECK(ca->datagrams_out == 2);
    CHECK(ca->bytes_out == 5 + big.size());
    CHECK(cb->datagrams_in == 2);
    CHECK(cb->bytes_in == 5 + big.size());
}

TEST_CASE("sending to a family the socket lacks, or to nowhere, is an error code") {
    auto counters = std::make_shared<DatagramCounters>();
    auto a = open_loopback(counters);
    const uint8_t x = 1;
    auto v6 = dht::SockAddr::resolve("::1").front();
    v6.setPort(9);
    CHECK(a->sendTo(v6, &x, 1, false) == EAFNOSUPPORT);
    CHECK(a->sendTo(dht::SockAddr(), &x, 1, false) == EFAULT);
}

TEST_CASE("a taken port is refused with kBusy") {
    auto counters = std::make_shared<DatagramCounters>();
    auto a = open_loopback(counters);
    auto again = UdpSocket::open(loopback(a->getBoundRef(AF_INET).getPort()), dht::SockAddr(), counters);
    CHECK(again.status().code() == Code::kBusy);
}

TEST_CASE("sockets work with descriptors above 1024") {
    rlimit lim{};
    REQUIRE(getrlimit(RLIMIT_NOFILE, &lim) == 0);
    if (lim.rlim_max < 2048) {
        MESSAGE("skipped: the hard limit on open files is " << lim.rlim_max);
        return;
    }
    const rlimit raised{std::max<rlim_t>(lim.rlim_cur, 2048), lim.rlim_max};
    REQUIRE(setrlimit(RLIMIT_NOFILE, &raised) == 0);
    std::vector<int> fillers;
    while (fillers.empty() || fillers.back() < 1100) fillers.push_back(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    {
        auto counters = std::make_shared<DatagramCounters>();
        auto a = open_loopback(counters);
        auto b = open_loopback(counters);
        Inbox inbox;
        inbox.attach(*b);
        const uint8_t x = 42;
        CHECK(a->sendTo(b->getBoundRef(AF_INET), &x, 1, false) == 0);
        CHECK(test::wait_until([&] { return inbox.size() == 1; }, 5s));
    }
    for (int fd : fillers) ::close(fd);
    REQUIRE(setrlimit(RLIMIT_NOFILE, &lim) == 0);
}
