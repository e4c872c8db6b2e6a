#pragma once
// What a dhtalk-swarm trial's meters read of its nodes: each node's status
// at one moment (none while the node is down), read once and shared by the
// meters (traffic_meter.h, queue_meter.h), since a status is not free to
// make; and how much a node's counter grew between two readings.

#include <cstdint>
#include <optional>
#include <vector>

#include "node/node_status.h"
#include "sim/sim_nodes.h"

namespace dhtalk {

using NodeReadings = std::vector<std::optional<NodeStatus>>;

// Node i's status if up[i] and it is running.
NodeReadings read_nodes(SimNodes& sim, const std::vector<bool>& up);

// A node's counters start again from zero when it restarts: a counter
// lower than before grew by what it holds now.
inline uint64_t counter_growth(uint64_t now, uint64_t before) { return now >= before ? now - before : now; }

}  // namespace dhtalk
