#pragma once
// Bytes a dhtalk-swarm trial's nodes send, by kind, over its measurement:
//
//   dht          what the node's host sent less its gossip payloads: OpenDHT,
//                and the sealing of everything
//   membership   the membership protocol's payloads (SWIM)
//   presence     presence payloads
//   messages, registration, trust
//                the peer service's requests and answers (HTTP between
//                members in life; in memory here, SimNodes::peer_bytes())
//   strategy     the broadcast or full strategy's datagrams
//
// The gossip counters are the nodes' own and start again when a node
// restarts: the meter reads them each second and adds what grew.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sim/sim_nodes.h"
#include "sim/swarm/node_readings.h"
#include "sim/swarm/record_strategies.h"

namespace dhtalk {

class TrafficMeter {
public:
    // `strategy` may be null (the DHT).
    TrafficMeter(SimNodes& sim, size_t nodes, const RecordStrategy* strategy);

    void begin(const NodeReadings& nodes);   // the measurement starts
    void read(const NodeReadings& nodes);    // each second of it
    void end();                                // it ends
    // Bytes by kind over the measurement.
    const std::map<std::string, uint64_t>& totals() const { return totals_; }

private:
    struct Counters {
        uint64_t membership = 0, presence = 0;
    };
    // A node's counters in a reading (zero while it is down).
    static Counters counters(const std::optional<NodeStatus>& status);
    std::map<std::string, uint64_t> shared() const;  // what is counted network-wide, now

    SimNodes& sim_;
    const RecordStrategy* strategy_;
    std::vector<Counters> last_;
    std::map<std::string, uint64_t> at_begin_, totals_;
};

}  // namespace dhtalk
