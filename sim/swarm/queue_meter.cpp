#include "sim/swarm/queue_meter.h"

#include "node/node.h"

namespace dhtalk {

QueueMeter::Reading QueueMeter::reading(size_t i, bool up) const {
    Node* node = up ? sim_.node(i) : nullptr;
    if (!node) return {};
    const NodeStatus s = node->status();
    return {s.work_queued, s.work_refused};
}

void QueueMeter::begin(const std::vector<bool>& up) {
    for (size_t i = 0; i < last_refused_.size(); ++i) last_refused_[i] = reading(i, up[i]).refused;
}

void QueueMeter::read(const std::vector<bool>& up) {
    for (size_t i = 0; i < last_refused_.size(); ++i) {
        if (!up[i]) {
            last_refused_[i] = 0;  // it counts from zero when it comes back
            continue;
        }
        const Reading now = reading(i, true);
        depths_.push_back(static_cast<double>(now.queued));
        refused_ += now.refused >= last_refused_[i] ? now.refused - last_refused_[i] : now.refused;
        last_refused_[i] = now.refused;
    }
}

}  // namespace dhtalk
