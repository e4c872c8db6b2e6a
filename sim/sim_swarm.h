#pragma once
// SimSwarm: many real OpenDHT nodes (dht::Dht) in one process on a
// SimNetwork, with blocking put/get that run the network until the operation
// finishes. Used by the simulated-network tests, the swarm benchmark and,
// later, dhtalk-swarm. Each node runs on the network's receiving socket,
// sealed in a sealed swarm, as a node's overlay does. A run replays from its
// seed, OpenDHT's random choices included (sim_entropy.h; docs/simulation.md).
// Single-threaded, like SimNetwork.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <opendht/dht.h>

#include "common/rng.h"
#include "net/sealed_socket.h"
#include "sim/sim_network.h"

namespace dhtalk {

struct SwarmConfig {
    LinkConfig link;
    // Never 0, the public network; any fixed value keeps swarms apart from it.
    dht::NetId network_id = 0x51a4;
    // How many already-running nodes a new node is told about.
    size_t bootstrap_contacts = 3;
    uint64_t seed = 1;
    // Sealed overlay: each node seals its datagrams with its own epoch key
    // (set_seal_key) and sends nothing before it has one.
    bool sealed = false;
    // Where the nodes live: loopback ports hold 65,000; the benchmarking
    // range holds millions (sim_network.h).
    SimAddresses addresses = SimAddresses::kLoopback;
};

class SimDhtNode;

class SimSwarm {
public:
    explicit SimSwarm(const SwarmConfig& config);
    ~SimSwarm();

    // Starts `count` more nodes, each told about a few running ones, and lets
    // each join for `join_time` of virtual time before the next batch.
    // `progress(started)` is called after each batch if given.
    void add_nodes(size_t count, std::chrono::milliseconds join_time = std::chrono::milliseconds(20),
                   const std::function<void(size_t)>& progress = {});

    size_t size() const { return nodes_.size(); }
    dht::Dht& dht(size_t node);
    SimNetwork& network() { return network_; }

    // Puts a value through `node` and runs the network until OpenDHT reports
    // the put done (or `limit` passes). Returns whether it reported success.
    bool put(size_t node, const dht::InfoHash& key, dht::Value value,
             std::chrono::seconds limit = std::chrono::seconds(60));

    struct GetResult {
        std::vector<std::shared_ptr<dht::Value>> values;
        // Virtual time from the call to the first value (or to the end of the search).
        std::chrono::microseconds latency{0};
        bool found() const { return !values.empty(); }
    };
    // Gets the values under `key` through `node`, stopping at the first
    // answer that holds one.
    GetResult get(size_t node, const dht::InfoHash& key,
                  std::chrono::seconds limit = std::chrono::seconds(60));

    // A deterministic key from the swarm's seed.
    dht::InfoHash random_key();

    // Sealed swarms: gives `node` an epoch key (the previous one keeps
    // opening datagrams for `grace` of virtual time), and its refusal counts.
    void set_seal_key(size_t node, const EpochKey& key, std::chrono::milliseconds grace);
    const SealCounters& seal_counters(size_t node);
    // Tells `node` about `peer` (as bootstrapping to it would) and wakes it.
    void introduce(size_t node, size_t peer);

private:
    SwarmConfig config_;
    Rng rng_;
    SimNetwork network_;
    std::vector<std::unique_ptr<SimDhtNode>> nodes_;  // destroyed before network_
};

}  // namespace dhtalk
