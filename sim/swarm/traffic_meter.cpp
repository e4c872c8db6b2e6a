#include "sim/swarm/traffic_meter.h"

namespace dhtalk {

TrafficMeter::TrafficMeter(SimNodes& sim, size_t nodes, const RecordStrategy* strategy)
    : sim_(sim), strategy_(strategy), last_(nodes) {}

std::map<std::string, uint64_t> TrafficMeter::shared() const {
    std::map<std::string, uint64_t> now = sim_.peer_bytes();
    uint64_t hosts = 0;
    for (size_t i = 0; i < last_.size(); ++i) hosts += sim_.network().bytes_sent_by(sim_.host(i));
    now["node_hosts"] = hosts;
    if (strategy_) {
        uint64_t bytes = 0;
        for (size_t i = 0; i < last_.size(); ++i) bytes += sim_.network().bytes_sent_by(strategy_->host(i));
        now["strategy"] = bytes;
    }
    return now;
}

TrafficMeter::Counters TrafficMeter::counters(const std::optional<NodeStatus>& status) {
    if (!status) return {};  // counting starts again with the node
    return {status->membership_bytes_out, status->presence_bytes_out};
}

void TrafficMeter::begin(const NodeReadings& nodes) {
    at_begin_ = shared();
    for (size_t i = 0; i < last_.size(); ++i) last_[i] = counters(nodes[i]);
    for (const char* kind : {"membership", "presence"}) totals_[kind] = 0;
}

void TrafficMeter::read(const NodeReadings& nodes) {
    for (size_t i = 0; i < last_.size(); ++i) {
        const Counters now = counters(nodes[i]);
        totals_["membership"] += counter_growth(now.membership, last_[i].membership);
        totals_["presence"] += counter_growth(now.presence, last_[i].presence);
        last_[i] = now;
    }
}

void TrafficMeter::end() {
    for (const auto& [kind, bytes] : shared()) {
        const auto before = at_begin_.find(kind);
        totals_[kind] = bytes - (before == at_begin_.end() ? 0 : before->second);
    }
    const uint64_t gossip = totals_["membership"] + totals_["presence"];
    const uint64_t hosts = totals_["node_hosts"];
    totals_.erase("node_hosts");
    totals_["dht"] = hosts > gossip ? hosts - gossip : 0;
}

}  // namespace dhtalk
