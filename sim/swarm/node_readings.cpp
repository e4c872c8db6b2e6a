#include "sim/swarm/node_readings.h"

#include "node/node.h"

namespace dhtalk {

NodeReadings read_nodes(SimNodes& sim, const std::vector<bool>& up) {
    NodeReadings out(up.size());
    for (size_t i = 0; i < up.size(); ++i)
        if (Node* node = up[i] ? sim.node(i) : nullptr) out[i] = node->status();
    return out;
}

}  // namespace dhtalk
