#include "sim/swarm/queue_meter.h"

namespace dhtalk {

void QueueMeter::begin(const NodeReadings& nodes) {
    for (size_t i = 0; i < last_refused_.size(); ++i) last_refused_[i] = nodes[i] ? nodes[i]->work_refused : 0;
}

void QueueMeter::read(const NodeReadings& nodes) {
    for (size_t i = 0; i < last_refused_.size(); ++i) {
        if (!nodes[i]) {
            last_refused_[i] = 0;  // it counts from zero when it comes back
            continue;
        }
        depths_.push_back(static_cast<double>(nodes[i]->work_queued));
        refused_ += counter_growth(nodes[i]->work_refused, last_refused_[i]);
        last_refused_[i] = nodes[i]->work_refused;
    }
}

}  // namespace dhtalk
