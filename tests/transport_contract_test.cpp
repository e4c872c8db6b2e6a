// One contract, two transports: the UDP socket a node runs on and the
// simulator's in-memory socket with a receive side, which whole nodes are to
// run on. Each test below runs against both. Also one contract for both
// clocks.
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "common/clock.h"
#include "net/udp_socket.h"
#include "sim/sim_network.h"
#include "testing/test_util.h"

#include "tests/doctest.h"

using namespace dhtalk;
using namespace std::chrono_literals;

namespace {

// What one socket received: payloads and where each came from.
struct Inbox {
    std::mutex mutex;
    std::vector<std::pair<std::string, dht::SockAddr>> received;  // guarded by mutex

    void attach(dht::net::DatagramSocket& s) {
        s.setOnReceive([this](dht::net::PacketList&& packets) {
            std::lock_guard lock(mutex);
            for (auto& p : packets) received.emplace_back(std::string(p.data.begin(), p.data.end()), p.from);
            return dht::net::PacketList{};
        });
    }
    size_t size() {
        std::lock_guard lock(mutex);
        return received.size();
    }
};

// Two UDP sockets on loopback; delivery is waited for in real time.
struct UdpTransport {
    std::unique_ptr<UdpSocket> a, b;
    UdpTransport() {
        auto bind = dht::SockAddr::resolve("127.0.0.1").front();
        a = UdpSocket::open(bind, {}, std::make_shared<DatagramCounters>()).value();
        b = UdpSocket::open(bind, {}, std::make_shared<DatagramCounters>()).value();
    }
    // Lets the network carry what was sent until `done`.
    bool deliver(const std::function<bool()>& done) { return test::wait_until(done, 5s); }
    dht::SockAddr nowhere() {
        // A port nobody holds: bound, read and closed again.
        auto gone = UdpSocket::open(dht::SockAddr::resolve("127.0.0.1").front(), {},
                                    std::make_shared<DatagramCounters>())
                        .value();
        dht::SockAddr addr = gone->getBound(AF_INET);
        gone->stop();
        return addr;
    }
};

// Two hosts of the simulated network; delivery runs virtual time.
struct SimTransport {
    SimNetwork network{LinkConfig{}};
    std::unique_ptr<dht::net::DatagramSocket> a, b;  // destroyed before the network
    SimTransport() {
        a = network.open_receiving_socket(network.add_host());
        b = network.open_receiving_socket(network.add_host());
    }
    bool deliver(const std::function<bool()>& done) { return network.run_until_true(done, 5s); }
    dht::SockAddr nowhere() { return network.address(network.add_host()); }  // a host with no socket
};

int send(dht::net::DatagramSocket& from, const dht::SockAddr& to, const std::string& payload) {
    return from.sendTo(to, reinterpret_cast<const uint8_t*>(payload.data()), payload.size(), false);
}

}  // namespace

TEST_CASE_TEMPLATE("a datagram arrives whole, once, from the sender's bound address", T, UdpTransport, SimTransport) {
    Inbox inbox;  // outlives the sockets that call it
    T t;
    inbox.attach(*t.b);
    CHECK(t.a->hasIPv4());
    REQUIRE(t.b->getPort(AF_INET) != 0);
    const std::string payload = std::string(1200, 'x') + "end";
    CHECK(send(*t.a, t.b->getBound(AF_INET), payload) == 0);
    REQUIRE(t.deliver([&] { return inbox.size() == 1; }));
    std::lock_guard lock(inbox.mutex);
    CHECK(inbox.received[0].first == payload);
    CHECK(inbox.received[0].second == t.a->getBound(AF_INET));
}

TEST_CASE_TEMPLATE("every datagram of a burst arrives once, and either way", T, UdpTransport, SimTransport) {
    Inbox at_a, at_b;
    T t;
    at_a.attach(*t.a);
    at_b.attach(*t.b);
    for (int i = 0; i < 50; ++i) send(*t.a, t.b->getBound(AF_INET), "to b " + std::to_string(i));
    send(*t.b, t.a->getBound(AF_INET), "to a");
    REQUIRE(t.deliver([&] { return at_b.size() == 50 && at_a.size() == 1; }));
    std::map<std::string, int> seen;
    {
        std::lock_guard lock(at_b.mutex);
        for (const auto& [payload, from] : at_b.received) seen[payload]++;
    }
    CHECK(seen.size() == 50);
    for (const auto& [payload, count] : seen) CHECK(count == 1);
}

TEST_CASE_TEMPLATE("a datagram to an address nobody holds vanishes, and the sender goes on", T, UdpTransport,
                   SimTransport) {
    Inbox inbox;
    T t;
    inbox.attach(*t.b);
    send(*t.a, t.nowhere(), "lost");  // an error code or 0: either way nothing arrives
    send(*t.a, t.b->getBound(AF_INET), "after");
    REQUIRE(t.deliver([&] { return inbox.size() == 1; }));
    std::lock_guard lock(inbox.mutex);
    CHECK(inbox.received[0].first == "after");
}

TEST_CASE_TEMPLATE("a stopped socket delivers nothing more", T, UdpTransport, SimTransport) {
    Inbox at_a, at_b;
    T t;
    at_b.attach(*t.b);
    send(*t.a, t.b->getBound(AF_INET), "first");
    REQUIRE(t.deliver([&] { return at_b.size() == 1; }));
    t.b->stop();
    // A datagram after the stop, then one to a live socket behind it: once
    // the second has arrived, the first had its chance (on the simulated
    // network it is due first; a stopped UDP socket has joined its receiver).
    at_a.attach(*t.a);
    send(*t.a, t.b->getBound(AF_INET), "after stop");
    send(*t.a, t.a->getBound(AF_INET), "marker");
    REQUIRE(t.deliver([&] { return at_a.size() == 1; }));
    CHECK(at_b.size() == 1);
}

namespace {

struct SystemClockCase {
    SystemClock clock;
    void pass(std::chrono::milliseconds d) { std::this_thread::sleep_for(d); }
};
struct ManualClockCase {
    ManualClock clock;
    void pass(std::chrono::milliseconds d) { clock.advance(d); }
};

}  // namespace

TEST_CASE_TEMPLATE("a clock's steady time never goes back, and both times move as time passes", T, SystemClockCase,
                   ManualClockCase) {
    T t;
    const SteadyTime s0 = t.clock.now();
    const WallTime w0 = t.clock.wall_now();
    SteadyTime last = s0;
    for (int i = 0; i < 1000; ++i) {
        const SteadyTime s = t.clock.now();
        CHECK(s >= last);
        last = s;
    }
    t.pass(5ms);
    CHECK(t.clock.now() - s0 >= 5ms);
    CHECK(t.clock.wall_now() - w0 >= 4ms);  // the wall clock may be slewed, not stepped back by this much
    // Unix milliseconds round-trip: what goes on the wire comes back the same.
    const WallTime w = t.clock.wall_now();
    CHECK(from_unix_millis(to_unix_millis(w)) == std::chrono::time_point_cast<std::chrono::milliseconds>(w));
}
