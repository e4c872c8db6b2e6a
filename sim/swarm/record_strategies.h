#pragma once
// The two storage strategies the original design weighed against a DHT,
// built for dhtalk-swarm to compare on one workload. Each stands behind
// RecordDht, the door the front end reaches users' records through
// (NodeEnv::records_dht), so the same ClientService, validator and clients
// run on top; issuance logs still go to the node's overlay. Their messages
// travel as datagrams on the simulated network, from a host of their own
// per node: latency, loss, down nodes and traffic count as for the DHT.
//
//   full       IRC-like full replication: every node holds every record.
//              A put is stored and sent to every other node (done at the
//              first acknowledgement); a get answers from the node's own
//              copy at once; a node that starts copies everything from one
//              running node.
//   broadcast  replication by caching and broadcast: the node a record was
//              published through keeps it (on disk: a restart keeps it) and
//              sends it to every other node, which caches it for
//              `cache_ttl`; a get answers from the node's copy while fresh,
//              else asks every node and takes the first copy it is given
//              (none after 2 s). Stopping empties the cache.
//
// Records are not checked by the nodes that hold them (the DHT's storing
// nodes check them): every get's caller checks, as with the DHT.
// Simulation only, single-threaded like SimNetwork; not options of
// dhtalk-node.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "dht/record_dht.h"
#include "sim/sim_network.h"

namespace dhtalk {

class RecordStrategy {
public:
    virtual ~RecordStrategy() = default;
    // Node i's door to records, over its `overlay` (for the issuance log).
    virtual RecordDht* door(size_t node, RecordDht& overlay) = 0;
    // Node i began running (full replication copies everything), or
    // stopped: what it held in memory (caches, requests) is gone, what it
    // keeps on disk stays. Nodes begin stopped.
    virtual void started(size_t node) = 0;
    virtual void stopped(size_t node) = 0;
    // Bytes of records node i holds now.
    virtual uint64_t stored_bytes(size_t node) const = 0;
    // Node i's host on the network (a region, an uplink, a side of a partition, as the node's own).
    virtual SimNetwork::HostId host(size_t node) const = 0;
};

enum class StrategyKind { kFull, kBroadcast };

std::unique_ptr<RecordStrategy> make_record_strategy(StrategyKind kind, SimNetwork& network, size_t nodes,
                                                     std::chrono::seconds cache_ttl);

}  // namespace dhtalk
