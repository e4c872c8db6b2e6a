#pragma once
// SimNodes: whole dhtalk nodes (node/node.h) on a SimNetwork, in virtual
// time, on one thread. Each node is opened by Node::open, as dhtalk-node
// opens it, with an environment (node/node_env.h) whose parts are the
// simulation's:
//
//   time      the network's virtual clock (the wall clock runs beside it
//             from a fixed date, so documents carry the same times on
//             every run);
//   turns     OwnerDrivers on the node's host: the gossip service, the
//             courier, the workers and OpenDHT's runner take their turns
//             when the network wakes the host, never on a thread;
//   datagrams the real socket chain (sealed, gossip) over the network's
//             in-memory socket;
//   peers     the peer service's requests handed to the addressed node's
//             handler in memory (at once: the peer service's latency is
//             not modelled), each node's from an address of its own
//             (127.1.x.y);
//   clients   MemoryFront sessions on the real ClientService;
//   store     a MemoryStore per node that outlives it (a restart keeps it);
//   codes     recorded, for the simulation to read;
//   identity  given by the simulation (set_identity).
//
// A run replays from its seed in any process of the same program: OpenDHT's
// random engines and GnuTLS draw from it (sim_entropy.h), certificates made
// during the run are dated by the virtual clock (virtual_time.h), and
// identities are given to the nodes (set_identity) or made from the seed
// (docs/simulation.md).

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "storage/store.h"
#include "storage/value_pool.h"
#include "node/config.h"
#include "sim/link_model.h"
#include "sim/memory_front.h"
#include "sim/sim_network.h"

namespace dhtalk {

class Node;
class RecordDht;

struct SimNodesConfig {
    uint64_t seed = 1;
    LinkConfig link;
    std::filesystem::path dir;  // the nodes' data directories go under it
    // Slot i's front end reaches records through records(i, overlay)
    // instead of its overlay (NodeEnv::records_dht); empty: the overlay.
    std::function<RecordDht*(size_t slot, RecordDht& overlay)> records;
};

class SimNodes {
public:
    // Turns on the process's virtual clock and seeded entropy (one
    // simulation at a time).
    explicit SimNodes(const SimNodesConfig& config);
    ~SimNodes();
    SimNodes(const SimNodes&) = delete;
    SimNodes& operator=(const SimNodes&) = delete;

    SimNetwork& network() { return network_; }
    const Clock& clock() const;

    // A place for a node: an address on the network and a data directory.
    size_t add_slot();
    size_t size() const { return slots_.size(); }
    // "127.0.0.1:PORT": the node's DHT and peer endpoint.
    std::string endpoint(size_t i) const;
    // The slot's host on the network (for regions, uplinks, partitions).
    SimNetwork::HostId host(size_t i) const;
    const std::filesystem::path& data_dir(size_t i) const;
    // The slot's store (a node keeps it across restarts; one may be filled
    // before the node's first start).
    Store& store(size_t i);
    // The identity slot i's node opens with, loaded from a folder of
    // crypto::load_or_create_identity (else the node makes one in its data
    // directory).
    Status set_identity(size_t i, const std::filesystem::path& identity_dir);

    // Opens slot i's node with `config` (its data directory, ports and
    // addresses are the slot's; the rest as given).
    Status start(size_t i, NodeConfig config);
    // Stops it as an operator would (it says goodbye); its store stays.
    void stop(size_t i);
    // Ends it at once: its host goes silent first, so the others learn of
    // it only by its silence. Its store stays.
    void crash(size_t i);
    Node* node(size_t i);
    // The node's in-memory client front end; null when it is not running.
    MemoryFront* front(size_t i);

    // Bytes of the peer service's requests and answers so far (they travel in
    // memory, not as datagrams), by kind: messages, registration, trust.
    const std::map<std::string, uint64_t>& peer_bytes() const;

    // The last verification code sent to `e164` by any node, or "".
    std::string last_code(const std::string& e164) const;

private:
    struct Slot;
    class SimClock;
    class SimPeerNet;
    class SimPeerView;

    SimNodesConfig config_;
    SimNetwork network_;
    std::unique_ptr<SimClock> clock_;
    std::unique_ptr<SimPeerNet> peers_;
    std::vector<std::unique_ptr<Slot>> slots_;
    // The nodes' stores share equal values: each holds the roster chain.
    std::shared_ptr<ValuePool> stored_values_ = std::make_shared<ValuePool>();
    std::map<std::string, std::string> codes_;  // e164 -> the last code
};

}  // namespace dhtalk
