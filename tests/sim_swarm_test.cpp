// Real OpenDHT nodes on the simulated network: a swarm forms, and values put
// through one node are found through others.
#include "sim/sim_swarm.h"

#include "tests/doctest.h"

using namespace dhtalk;
using namespace std::chrono_literals;

namespace {

// OpenDHT may miss a stored value in one get (its own random choices); reads
// that matter retry, as DESIGN.md says. Three tries.
SimSwarm::GetResult get_with_retries(SimSwarm& swarm, size_t node, const dht::InfoHash& key) {
    SimSwarm::GetResult r;
    for (int attempt = 0; attempt < 3 && !r.found(); ++attempt) r = swarm.get(node, key);
    return r;
}

}  // namespace

TEST_CASE("200 OpenDHT nodes on the simulated network store and find values") {
    for (uint64_t seed : {11u, 12u}) {
        CAPTURE(seed);
        SwarmConfig config;
        config.seed = seed;
        // The second swarm lives in the benchmarking range: four addresses
        // of 64 ports, which OpenDHT takes as public ones.
        config.addresses = seed == 12 ? SimAddresses::kBenchmarkRange : SimAddresses::kLoopback;
        config.link.median_latency = 40ms;
        config.link.loss = 0.01;
        SimSwarm swarm(config);
        const auto wall_start = std::chrono::system_clock::now();
        swarm.add_nodes(200);
        swarm.network().run_for(30s);  // let routing tables fill
        std::vector<dht::InfoHash> keys;
        Rng pick(seed);
        for (int i = 0; i < 20; ++i) {
            keys.push_back(swarm.random_key());
            const std::string text = "value " + std::to_string(i);
            REQUIRE(swarm.put(pick.uniform(swarm.size()), keys.back(),
                              dht::Value(reinterpret_cast<const uint8_t*>(text.data()), text.size())));
        }
        for (int i = 0; i < 20; ++i) {
            auto r = get_with_retries(swarm, pick.uniform(swarm.size()), keys[i]);
            REQUIRE(r.found());
            const auto& data = r.values.front()->data;
            CHECK(std::string(data.begin(), data.end()) == "value " + std::to_string(i));
        }
        const auto wall = std::chrono::system_clock::now() - wall_start;
        MESSAGE("seed " << seed << ": " << swarm.network().stats().datagrams_sent << " datagrams, "
                        << std::chrono::duration_cast<std::chrono::milliseconds>(wall).count() << " ms wall");
    }
}

TEST_CASE("a value stays findable when the node that put it leaves") {
    SwarmConfig config;
    config.seed = 5;
    SimSwarm swarm(config);
    swarm.add_nodes(60);
    swarm.network().run_for(20s);
    const auto key = swarm.random_key();
    REQUIRE(swarm.put(0, key, dht::Value(std::vector<uint8_t>{1, 2, 3})));
    swarm.network().attach(0, nullptr);  // node 0 goes silent
    auto r = get_with_retries(swarm, 30, key);
    REQUIRE(r.found());
    CHECK(r.values.front()->data == std::vector<uint8_t>{1, 2, 3});
}

TEST_CASE("a key nobody stored is not found") {
    SwarmConfig config;
    config.seed = 6;
    SimSwarm swarm(config);
    swarm.add_nodes(40);
    swarm.network().run_for(10s);
    auto r = swarm.get(3, swarm.random_key(), 30s);
    CHECK_FALSE(r.found());
}

namespace {

// A run's observable history: traffic totals and each get's outcome.
std::string swarm_history(uint64_t seed) {
    SwarmConfig config;
    config.seed = seed;
    config.link.loss = 0.02;
    SimSwarm swarm(config);
    swarm.add_nodes(80);
    swarm.network().run_for(20s);
    std::string h;
    for (int i = 0; i < 5; ++i) {
        const auto key = swarm.random_key();
        h += swarm.put(static_cast<size_t>(i), key, dht::Value(std::vector<uint8_t>{uint8_t(i)})) ? "P" : "p";
        auto r = swarm.get(static_cast<size_t>(40 + i), key);
        h += (r.found() ? "G" : "g") + std::to_string(r.latency.count()) + ";";
    }
    const auto& s = swarm.network().stats();
    h += std::to_string(s.datagrams_sent) + "/" + std::to_string(s.bytes_sent) + "/" + std::to_string(s.datagrams_lost);
    return h;
}

}  // namespace

TEST_CASE("a seed replays the same swarm history, OpenDHT's random choices included") {
    const auto a = swarm_history(21);
    CHECK(a == swarm_history(21));
    CHECK(a != swarm_history(22));
    MESSAGE(a);
}
