// QueuedDelay, the delay and loss the cross-validation puts between node
// processes (bench/crossval_bench.cpp): in a network namespace of this
// test's own, datagrams to the queued address arrive no sooner than the
// delay, in order, or are dropped at the loss's rate; others are not held.
// Needs root (the namespace and its rules); says so and checks nothing
// without it.
#include <arpa/inet.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include "testing/queued_delay.h"

#include "tests/doctest.h"

using namespace dhtalk;
using namespace std::chrono;

namespace {

int udp_socket(const char* address, uint16_t port) {
    const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    ::inet_pton(AF_INET, address, &a.sin_addr);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    return fd;
}

void send_to(int fd, const char* address, uint16_t port, const std::string& payload) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    ::inet_pton(AF_INET, address, &a.sin_addr);
    REQUIRE(::sendto(fd, payload.data(), payload.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a) ==
            static_cast<ssize_t>(payload.size()));
}

// The next datagram on `fd` within `bound` (a bound on a failing test, not
// a measurement), or "".
std::string receive(int fd, milliseconds bound) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(bound.count())) != 1) return {};
    char buf[256];
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

}  // namespace

TEST_CASE("packets to the queued address wait their delay, keep their order, and are dropped at the loss's rate") {
    if (::geteuid() != 0) {
        MESSAGE("not root: QueuedDelay needs a network namespace of its own; nothing checked");
        return;
    }
    REQUIRE_MESSAGE(bench::enter_queued_namespace("127.0.0.2", 3).is_ok(), "the namespace and its rules");
    constexpr auto kDelay = milliseconds(30);
    auto delay = bench::QueuedDelay::start({3, kDelay, 0.25, 7});
    REQUIRE_MESSAGE(delay.is_ok(), delay.status().to_string());
    const int queued = udp_socket("127.0.0.2", 4000), plain = udp_socket("127.0.0.1", 4001), sender = udp_socket("127.0.0.1", 0);

    constexpr int kSent = 200;
    std::vector<steady_clock::time_point> sent(kSent);
    for (int i = 0; i < kSent; ++i) {
        sent[static_cast<size_t>(i)] = steady_clock::now();
        send_to(sender, "127.0.0.2", 4000, std::to_string(i));
    }
    // Until every datagram has arrived or been dropped (the 5 s bound only
    // ends a failing test).
    int received = 0, last = -1;
    while (received + static_cast<int>((*delay)->counts().dropped) < kSent) {
        const std::string d = receive(queued, seconds(5));
        if (d.empty()) break;
        ++received;
        const int i = std::stoi(d);
        CHECK(i > last);  // in order
        last = i;
        CHECK(steady_clock::now() - sent[static_cast<size_t>(i)] >= kDelay);
    }
    const auto counts = (*delay)->counts();
    CHECK(received + static_cast<int>(counts.dropped) == kSent);
    CHECK(counts.passed == static_cast<uint64_t>(received));
    CHECK(counts.dropped > kSent / 8);  // a quarter, drawn from a fixed seed
    CHECK(counts.dropped < kSent / 2);
    CHECK(counts.overflows == 0);

    // Between other addresses nothing is queued.
    send_to(sender, "127.0.0.1", 4001, "plain");
    CHECK(receive(plain, seconds(5)) == "plain");
    CHECK((*delay)->counts().passed == counts.passed);
    for (int fd : {queued, plain, sender}) ::close(fd);
}
