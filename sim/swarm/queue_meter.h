#pragma once
// The work queues of a dhtalk-swarm trial's nodes over its measurement
// (the workers' queues: common/worker.h, counted per node in its status):
//
//   depths    the jobs waiting at each running node, read each second
//   refused   jobs a full queue refused, in the whole network
//
// A node's refusals count again from zero when it restarts: the meter adds
// what grew between its reads, as the traffic meter does.

#include <cstdint>
#include <vector>

#include "sim/sim_nodes.h"

namespace dhtalk {

class QueueMeter {
public:
    QueueMeter(SimNodes& sim, size_t nodes) : sim_(sim), last_refused_(nodes, 0) {}

    void begin(const std::vector<bool>& up);  // the measurement starts
    void read(const std::vector<bool>& up);   // each second of it, and at its end

    // One value per running node and second read.
    const std::vector<double>& depths() const { return depths_; }
    uint64_t refused() const { return refused_; }

private:
    struct Reading {
        uint64_t queued = 0, refused = 0;
    };
    Reading reading(size_t i, bool up) const;  // zero while node i is down

    SimNodes& sim_;
    std::vector<uint64_t> last_refused_;
    std::vector<double> depths_;
    uint64_t refused_ = 0;
};

}  // namespace dhtalk
