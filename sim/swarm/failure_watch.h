#pragma once
// How well the membership protocol (SWIM) tells the crashed from the
// running, in a dhtalk-swarm trial: it looks at every running node's view
// of the others every 250 ms of virtual time.
//
//   detection     for each crash, the time until every running node holds
//                 the crashed one dead (none if it restarted first);
//   false alarm   a running node held dead by another running node, counted
//                 per look and pair, leaving out the 30 s after a node
//                 (re)started, while the others learn it is back.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "sim/sim_nodes.h"

namespace dhtalk {

class FailureWatch {
public:
    struct Detection {
        size_t node = 0;
        SteadyTime crashed{};
        std::optional<SteadyTime> detected;  // none: it restarted first
    };

    // `node_ids`: slot i's node id (hex), as the membership protocol names it.
    FailureWatch(SimNodes& sim, std::vector<std::string> node_ids);

    void crashed(size_t node, SteadyTime at);
    void started(size_t node, SteadyTime at);
    // One look, if one is due; `count` says whether false alarms count now
    // (the measurement phase).
    void look(SteadyTime now, const std::vector<bool>& up, bool count);

    const std::vector<Detection>& detections() const { return detections_; }
    uint64_t false_alarms() const { return false_alarms_; }
    uint64_t pairs_looked_at() const { return pairs_; }

private:
    SimNodes& sim_;
    std::map<std::string, size_t> slot_of_;
    std::vector<Detection> detections_;
    std::map<size_t, size_t> open_;  // crashed node -> its detection, until all see it
    std::vector<SteadyTime> started_at_;
    SteadyTime next_look_{};
    uint64_t false_alarms_ = 0, pairs_ = 0;
};

}  // namespace dhtalk
