// The trusted network on the simulated network: five members' OpenDHT nodes
// on a sealed overlay whose epoch keys come from the roster, through
// admissions and a ban. Members keep storing and finding values across every
// epoch change; the banned node is cut off once the grace period ends; a
// node with another network's key never gets in. Replays from its seed.
#include "sim/sim_swarm.h"
#include "roster/roster_rules.h"
#include "tests/roster_bus.h"

#include "tests/doctest.h"

using namespace dhtalk;
using namespace std::chrono_literals;
using test::Bus;
using test::ids;

namespace {

constexpr auto kGrace = 5s;

// Installs, for every node that holds one, its key of the bus's current epoch.
void apply_keys(Bus& bus, SimSwarm& swarm, int nodes) {
    const auto& epoch = bus.at(0).current();
    for (int i = 0; i < nodes; ++i) {
        auto key = open_epoch_key(epoch, ids()[i]);
        if (key) swarm.set_seal_key(static_cast<size_t>(i), {static_cast<uint32_t>(epoch.epoch), *key}, kGrace);
    }
}

bool finds(SimSwarm& swarm, size_t node, const dht::InfoHash& key) {
    for (int attempt = 0; attempt < 3; ++attempt)
        if (swarm.get(node, key, 20s).found()) return true;
    return false;
}

// Runs the whole scenario and returns its observable history.
std::string scenario(uint64_t seed) {
    SwarmConfig config;
    config.seed = seed;
    config.sealed = true;
    config.link.median_latency = 30ms;
    config.link.loss = 0.01;
    SimSwarm swarm(config);
    swarm.add_nodes(6);  // nodes 0-4 for ids 0-4; node 5 an outsider with another key
    swarm.set_seal_key(5, {0, crypto::random_key()}, kGrace);
    for (size_t m = 0; m < 5; ++m) swarm.introduce(5, m);  // the outsider knows where members are

    Bus bus;  // node 0 founds the network
    apply_keys(bus, swarm, 5);
    std::string history;
    const int admitted_by[5][4] = {{}, {0}, {0, 1}, {1, 2}, {0, 2, 3}};
    for (int k = 1; k <= 4; ++k) {
        bus.apply(k);
        const size_t needed = approvals_needed(QuorumRule::kMajority, bus.at(0).current().members.size());
        for (size_t v = 0; v < needed; ++v) bus.vote(admitted_by[k][v], ChangeKind::kAdmit, k);
        REQUIRE(bus.at(k).is_member());
        apply_keys(bus, swarm, 5);
        for (size_t m = 0; m < static_cast<size_t>(k); ++m) swarm.introduce(static_cast<size_t>(k), m);  // joins through the members
        swarm.network().run_for(10s);
        // A value put by the newest member is found by the first.
        const auto key = swarm.random_key();
        REQUIRE(swarm.put(static_cast<size_t>(k), key, dht::Value(std::vector<uint8_t>{uint8_t(k)})));
        CHECK(finds(swarm, 0, key));
        history += "E" + std::to_string(bus.at(0).current().epoch) + ";";
    }
    // Every member converged on the same roster.
    for (int i = 1; i <= 4; ++i) CHECK(hash_of(bus.at(i).current()) == hash_of(bus.at(0).current()));

    // Ban node 4: members 0, 1, 2 of the 4 eligible.
    for (int v : {0, 1, 2}) bus.vote(v, ChangeKind::kBan, 4);
    REQUIRE(bus.at(0).current().change == ChangeKind::kBan);
    apply_keys(bus, swarm, 5);  // node 4 cannot open the new key: it keeps the old one
    swarm.network().run_for(kGrace + 5s);
    const auto after_ban = swarm.random_key();
    REQUIRE(swarm.put(1, after_ban, dht::Value(std::vector<uint8_t>{42})));
    CHECK(finds(swarm, 2, after_ban));
    CHECK_FALSE(swarm.get(4, after_ban, 20s).found());  // the banned node is cut off
    CHECK_FALSE(swarm.get(5, after_ban, 20s).found());  // and the outsider never got in
    uint64_t refused = 0;
    for (size_t i = 0; i < 4; ++i) refused += swarm.seal_counters(i).refused();
    CHECK(refused > 0);  // their datagrams were refused, not merely unanswered
    history += "ban;refused=" + std::to_string(refused) + ";sent=" + std::to_string(swarm.network().stats().datagrams_sent);
    return history;
}

}  // namespace

TEST_CASE("sealed overlay on the simulated network through admissions and a ban") {
    for (uint64_t seed : {3u, 4u}) {
        CAPTURE(seed);
        const auto history = scenario(seed);
        CHECK(history == scenario(seed));  // replays from its seed
        MESSAGE(history);
    }
}
