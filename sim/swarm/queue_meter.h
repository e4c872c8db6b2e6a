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

#include "sim/swarm/node_readings.h"

namespace dhtalk {

class QueueMeter {
public:
    explicit QueueMeter(size_t nodes) : last_refused_(nodes, 0) {}

    void begin(const NodeReadings& nodes);  // the measurement starts
    void read(const NodeReadings& nodes);   // each second of it, and at its end

    // One value per running node and second read.
    const std::vector<double>& depths() const { return depths_; }
    uint64_t refused() const { return refused_; }

private:
    std::vector<uint64_t> last_refused_;
    std::vector<double> depths_;
    uint64_t refused_ = 0;
};

}  // namespace dhtalk
