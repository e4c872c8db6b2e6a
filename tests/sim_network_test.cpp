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
    bool burst = false;
    for (int i = 0; i < 20001; ++i) {
        auto f = model.fate(burst);
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
    bool burst = false;
    for (int i = 0; i < 50'000; ++i) lost += model.fate(burst) ? 0 : 1;
    CHECK(lost / 50'000.0 == doctest::Approx(0.2).epsilon(0.05));
}

TEST_CASE("bursty loss comes in runs: the same share lost as independent loss, in far fewer, longer gaps") {
    // Good to bad with 1%, back with 10%: a tenth of the time bad (1/11),
    // losing half there: about 4.5% overall, in runs.
    LinkConfig c;
    c.seed = 5;
    c.burst_enter = 0.01;
    c.burst_leave = 0.1;
    c.burst_loss = 0.5;
    LinkModel bursty(c);
    LinkConfig flat;
    flat.seed = 5;
    flat.loss = 0.5 / 11;
    LinkModel independent(flat);
    auto runs = [](LinkModel& m, int& lost) {
        bool burst = false, last_lost = false;
        int starts = 0;
        for (int i = 0; i < 200'000; ++i) {
            const bool l = !m.fate(burst);
            lost += l;
            starts += l && !last_lost;
            last_lost = l;
        }
        return starts;
    };
    int lost_bursty = 0, lost_flat = 0;
    const int gaps_bursty = runs(bursty, lost_bursty), gaps_flat = runs(independent, lost_flat);
    CHECK(lost_bursty / 200'000.0 == doctest::Approx(0.5 / 11).epsilon(0.15));
    CHECK(lost_flat / 200'000.0 == doctest::Approx(0.5 / 11).epsilon(0.1));
    CHECK(static_cast<double>(lost_bursty) / gaps_bursty > 1.5 * static_cast<double>(lost_flat) / gaps_flat);
}

TEST_CASE("an uplink cap spaces a host's datagrams and drops what would queue past a second; regions add their delay") {
    LinkConfig link;
    link.median_latency = 10ms;
    link.latency_sigma = 0;
    SimNetwork net(link);
    struct Arrivals final : public SimHost {
        std::vector<SteadyTime> at;
        SteadyTime on_datagram(const uint8_t*, size_t, const dht::SockAddr&, SteadyTime now) override {
            at.push_back(now);
            return SteadyTime::max();
        }
        SteadyTime on_wake(SteadyTime) override { return SteadyTime::max(); }
    } far, near;
    const auto a = net.add_host(), b = net.add_host(), c = net.add_host();
    net.attach(b, &far);
    net.attach(c, &near);
    net.set_region(b, 1);
    net.set_region_delays({{0ms, 50ms}, {50ms, 0ms}});
    net.set_uplink(a, 100'000);  // 100 kB/s: a 1,000-byte datagram takes 10 ms to leave
    const SteadyTime start = net.now();
    std::vector<uint8_t> d(1000);
    for (int i = 0; i < 150; ++i) net.send(a, net.address(b), d.data(), d.size());
    net.run_for(5s);
    REQUIRE(far.at.size() == 100);  // the rest would have waited more than a second
    CHECK(far.at.front() - start == 10ms + 10ms + 50ms);  // leaving, the link, the regions
    CHECK(far.at[99] - far.at[98] == 10ms);
    // From a host without a cap in region 0 to region 0: the link alone.
    const SteadyTime sent = net.now();
    net.send(b, net.address(c), d.data(), d.size());
    net.run_for(1s);
    REQUIRE(near.at.size() == 1);
    CHECK(near.at[0] - sent == 10ms + 50ms);  // b is in region 1: the regions' delay, no queue
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

dht::SockAddr at(const char* ip, uint16_t port) {
    return dht::SockAddr::resolve(ip, std::to_string(port)).front();
}

TEST_CASE("in the benchmarking range, hosts take 64 ports of each address, and are found by address and port") {
    SimNetwork net(LinkConfig{}, SimAddresses::kBenchmarkRange);
    std::vector<SimNetwork::HostId> ids;
    for (int i = 0; i < 130; ++i) ids.push_back(net.add_host());
    CHECK(net.address(0).toString() == "198.18.0.0:4222");
    CHECK(net.address(63).toString() == "198.18.0.0:4285");
    CHECK(net.address(64).toString() == "198.18.0.1:4222");
    CHECK(net.address(129).toString() == "198.18.0.2:4223");
    for (auto id : ids) CHECK(net.host_at(net.address(id)) == id);
    CHECK_FALSE(net.host_at(at("198.18.0.2", 4224)).has_value());  // not reserved yet
    CHECK_FALSE(net.host_at(at("198.18.0.0", 4286)).has_value());  // past an address's ports
    CHECK_FALSE(net.host_at(at("127.0.0.1", 1)).has_value());      // loopback is not in this network

    std::string log;
    EchoHost far(net, 129, log);
    net.attach(129, &far);
    uint8_t one[1] = {1};
    net.send(0, net.address(129), one, 1);
    net.run_for(10s);
    CHECK(net.stats().datagrams_delivered == 1);
    CHECK(net.stats().datagrams_undeliverable == 1);  // the echo back to 0, which has no receiver
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

TEST_CASE("timed calls run at their time, in order with deliveries; a stream's delay is the link's and the regions'") {
    LinkConfig link;
    link.median_latency = 10ms;
    link.latency_sigma = 0;
    link.loss = 1.0;  // every datagram lost: a stream's delay is never a loss
    SimNetwork net(link);
    const auto a = net.add_host(), b = net.add_host();
    net.set_region(b, 1);
    net.set_region_delays({{0ms, 30ms}, {30ms, 0ms}});
    CHECK(net.stream_delay(a, b) == 10ms + 30ms);
    CHECK(net.stream_delay(a, a) == 10ms);
    const SteadyTime start = net.now();
    std::vector<std::string> ran;
    net.call_at(start + 20ms, [&] {
        ran.push_back("second at " + std::to_string((net.now() - start) / 1ms));
        net.call_at(start, [&] { ran.push_back("past, run now at " + std::to_string((net.now() - start) / 1ms)); });
    });
    net.call_at(start + 10ms, [&] { ran.push_back("first at " + std::to_string((net.now() - start) / 1ms)); });
    net.call_at(start + 90ms, [&] { ran.push_back("too late"); });
    net.run_until(start + 50ms);
    CHECK(ran == std::vector<std::string>{"first at 10", "second at 20", "past, run now at 20"});
    CHECK(net.now() == start + 50ms);
}
