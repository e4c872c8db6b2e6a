// The simulated network's own model, with small hand-written hosts: latency
// and loss follow the configuration, and a seed replays the same history.
#include "sim/sim_network.h"

#include <algorithm>
#include <string>

#include "tests/doctest.h"

using namespace dhtalk;
using namespace std::chrono_literals;

namespace {

// Answers every datagram with the same bytes and records what it saw.
class EchoHost final : public SimHost {
public:
    EchoHost(SimNetwork& net, SimNetwork::HostId self, std::string& log) : net_(net), self_(self), log_(log) {}
    SteadyTime on_datagram(const uint8_t* data, size_t size, const dht::SockAddr& from, SteadyTime now) override {
        log_ += std::to_string(self_) + "<" + std::to_string(from.getPort()) + "@" +
                std::to_string((now - start_).count()) + ";";
        if (size > 0 && data[0] > 0) {
            std::vector<uint8_t> reply(data, data + size);
            reply[0]--;
            net_.send(self_, from, reply.data(), reply.size());
        }
        return SteadyTime::max();
    }
    SteadyTime on_wake(SteadyTime now) override {
        wakes_++;
        last_wake_ = now;
        return SteadyTime::max();
    }
    SteadyTime start_{};
    int wakes_ = 0;
    SteadyTime last_wake_{};

private:
    SimNetwork& net_;
    SimNetwork::HostId self_;
    std::string& log_;
};

// Runs a ping-pong exchange among four hosts and returns its history.
std::string run_history(uint64_t seed, double loss) {
    LinkConfig link;
    link.seed = seed;
    link.loss = loss;
    SimNetwork net(link);
    std::string log;
    std::vector<std::unique_ptr<EchoHost>> hosts;
    for (int i = 0; i < 4; ++i) {
        auto id = net.add_host();
        hosts.push_back(std::make_unique<EchoHost>(net, id, log));
        hosts.back()->start_ = net.now();
        net.attach(id, hosts.back().get());
    }
    for (uint8_t i = 0; i < 4; ++i) {
        uint8_t bounces[1] = {20};
        net.send(i, net.address((i + 1) % 4), bounces, 1);
    }
    net.run_for(60s);
    return log;
}

}  // namespace

TEST_CASE("a seed replays the same history, another seed does not") {
    for (uint64_t seed : {1u, 7u, 42u}) {
        CAPTURE(seed);
        const auto a = run_history(seed, 0.1);
        CHECK(!a.empty());
        CHECK(a == run_history(seed, 0.1));
        CHECK(a != run_history(seed + 1000, 0.1));
    }
}

TEST_CASE("latency stays within its bounds and centres on the median") {
    LinkConfig c;
    c.median_latency = 50ms;
    c.latency_sigma = 0.5;
    c.min_latency = 10ms;
    c.max_latency = 300ms;
    LinkModel model(c);
    std::vector<int64_t> us;
    for (int i = 0; i < 20001; ++i) {
        auto f = model.fate();
        REQUIRE(f);
        CHECK(*f >= c.min_latency);
        CHECK(*f <= c.max_latency);
        us.push_back(f->count());
    }
    std::nth_element(us.begin(), us.begin() + 10000, us.end());
    CHECK(us[10000] == doctest::Approx(50'000).epsilon(0.05));
}

TEST_CASE("loss drops the configured share of datagrams") {
    LinkConfig c;
    c.loss = 0.2;
    c.seed = 3;
    LinkModel model(c);
    int lost = 0;
    for (int i = 0; i < 50'000; ++i) lost += model.fate() ? 0 : 1;
    CHECK(lost / 50'000.0 == doctest::Approx(0.2).epsilon(0.05));
}

TEST_CASE("virtual time moves with events, not with the wall clock") {
    SimNetwork net(LinkConfig{});
    std::string log;
    auto id = net.add_host();
    EchoHost host(net, id, log);
    net.attach(id, &host);
    const auto start = net.now();
    net.wake_at(id, start + 10min);
    net.wake_at(id, start + 5min);  // the earlier request wins
    net.run_for(6min);
    CHECK(host.wakes_ == 1);
    CHECK(host.last_wake_ == start + 5min);
    // OpenDHT reads steady_clock itself: it must see the virtual time.
    CHECK(std::chrono::steady_clock::now() == start + 6min);
}

TEST_CASE("datagrams to a detached host or an unknown address are not delivered") {
    SimNetwork net(LinkConfig{});
    std::string log;
    auto a = net.add_host();
    auto b = net.add_host();
    EchoHost ha(net, a, log);
    net.attach(a, &ha);
    uint8_t zero[1] = {0};
    net.send(a, net.address(b), zero, 1);  // b has no receiver
    dht::SockAddr unknown = net.address(a);
    unknown.setPort(60'000);
    net.send(a, unknown, zero, 1);
    net.run_for(10s);
    CHECK(net.stats().datagrams_sent == 2);
    CHECK(net.stats().datagrams_delivered == 0);
    CHECK(net.stats().datagrams_undeliverable == 2);
}

TEST_CASE("datagrams on one path arrive in the order sent, whatever their latency; other paths do not wait") {
    LinkConfig link;
    link.median_latency = 20ms;
    link.latency_sigma = 1.0;  // widely spread: without the order, many would overtake
    link.max_latency = 1s;
    SimNetwork net(link);
    std::string log;
    std::vector<std::unique_ptr<EchoHost>> hosts;
    for (int i = 0; i < 3; ++i) {
        auto id = net.add_host();
        hosts.push_back(std::make_unique<EchoHost>(net, id, log));
        net.attach(id, hosts.back().get());
    }
    // Host 1 sends 200 numbered datagrams to host 0 back to back; host 2
    // one, after them. Byte 0 is 0 so that nothing echoes.
    for (uint8_t i = 0; i < 200; ++i) {
        uint8_t d[2] = {0, i};
        net.send(1, net.address(0), d, 2);
    }
    uint8_t late[2] = {0, 255};
    net.send(2, net.address(0), late, 2);
    struct Recorder final : public SimHost {
        std::vector<std::pair<uint16_t, uint8_t>> got;  // (from port, number)
        SteadyTime on_datagram(const uint8_t* data, size_t, const dht::SockAddr& from, SteadyTime) override {
            got.emplace_back(from.getPort(), data[1]);
            return SteadyTime::max();
        }
        SteadyTime on_wake(SteadyTime) override { return SteadyTime::max(); }
    } recorder;
    net.attach(0, &recorder);
    net.run_for(5s);
    std::vector<uint8_t> from_1;
    size_t late_at = 0;
    for (size_t i = 0; i < recorder.got.size(); ++i) {
        if (recorder.got[i].second == 255) late_at = i;
        else from_1.push_back(recorder.got[i].second);
    }
    REQUIRE(from_1.size() == 200);
    CHECK(std::is_sorted(from_1.begin(), from_1.end()));
    CHECK(late_at < 200);  // host 2's datagram did not queue behind host 1's
}
