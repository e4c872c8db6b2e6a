// What the trial measures: traffic, work queues, nodes up and storage as time passes,
// and the events of the measurement gathered into a SwarmTrial.
#include "sim/swarm/trial.h"

#include <algorithm>

#include "dht/overlay.h"
#include "node/node.h"

namespace dhtalk::swarm {

using namespace std::chrono;

// The measurement's own figures as time passes: traffic and work queues at
// its start, each second and its end, the nodes running, the storage at its end.
void Trial::account(SteadyTime now) {
    if (!measuring_ && now >= measure_from_) {
        measuring_ = true;
        at_measure_start_ = sim_.network().stats();
        bytes_at_sample_ = at_measure_start_.bytes_sent;
        next_sample_ = measure_from_ + seconds(1);
        const NodeReadings nodes = read_nodes(sim_, up_);
        meter_->begin(nodes);
        queues_->begin(nodes);
    }
    if (!measuring_) return;
    if (now >= next_sample_ && now <= measure_to_) {
        const uint64_t bytes = sim_.network().stats().bytes_sent;
        bytes_per_node_per_s_.push_back(static_cast<double>(bytes - bytes_at_sample_) / static_cast<double>(s_.nodes));
        bytes_at_sample_ = bytes;
        next_sample_ += seconds(1);
        const NodeReadings nodes = read_nodes(sim_, up_);
        meter_->read(nodes);
        queues_->read(nodes);
    }
    if (now < measure_to_) up_sum_ += static_cast<double>(up_count()), ++up_samples_;
    if (now >= measure_to_ && !at_measure_end_) {
        at_measure_end_ = sim_.network().stats();
        sample_storage();
        const NodeReadings nodes = read_nodes(sim_, up_);
        meter_->read(nodes);
        meter_->end();
        queues_->read(nodes);
    }
}

// Bytes each running node holds for the network at the end of the
// measurement: its DHT's values (records with the DHT strategy, the
// issuance logs with every strategy) and the strategy's records.
void Trial::sample_storage() {
    for (size_t i = 0; i < s_.nodes; ++i) {
        if (!up_[i]) continue;
        uint64_t bytes = strategy_ ? strategy_->stored_bytes(i) : 0;
        if (Node* n = sim_.node(i); n && n->overlay()) bytes += n->overlay()->stats().bytes_stored;
        stored_bytes_.push_back(static_cast<double>(bytes));
    }
}

Result<SwarmTrial> Trial::finish(double mean_up) {
    const SteadyTime end = sim_.network().now();
    for (auto& op : operations_) {
        if (op.event.outcome.empty()) answered(op, end, "timeout");
        if (measured(op.started)) events_.push_back(op.event);
    }
    for (size_t i = 0; i < changes_.size(); ++i) {
        const PresenceChange& change = changes_[i];
        if (!measured(change.at)) continue;
        for (size_t k = 0; k < change.watchers.size(); ++k)
            record(change.at, static_cast<int64_t>(clients_[change.watchers[k]].node), static_cast<int64_t>(change.watchers[k]),
                   "presence", change.seen[k] ? "delivered" : "missed",
                   change.seen[k] ? duration<double, std::milli>(*change.seen[k] - change.at).count() : -1, i);
    }
    for (const auto& d : watch_->detections())
        if (measured(d.crashed))
            record(d.crashed, static_cast<int64_t>(d.node), -1, "detect", d.detected ? "ok" : "restarted-first",
                   d.detected ? duration<double, std::milli>(*d.detected - d.crashed).count() : -1);
    for (size_t i = 0; i < messages_.size(); ++i) {
        const Message& m = messages_[i];
        if (!measured(m.sent)) continue;
        const std::string outcome = m.delivered ? "delivered" : m.stored ? "lost" : "not-stored";
        record(m.sent, static_cast<int64_t>(clients_[m.from].node), static_cast<int64_t>(m.from), "message", outcome,
               m.delivered ? duration<double, std::milli>(*m.delivered - m.sent).count() : -1);
    }
    std::stable_sort(events_.begin(), events_.end(), [](const SwarmEvent& a, const SwarmEvent& b) { return a.t_s < b.t_s; });
    SwarmTrial t;
    t.events = std::move(events_);
    t.nodes = s_.nodes;
    t.users = clients_.size();
    t.measure_s = s_.measure_s;
    const auto& until = at_measure_end_ ? *at_measure_end_ : sim_.network().stats();
    t.bytes_sent = until.bytes_sent - at_measure_start_.bytes_sent;
    t.datagrams_sent = until.datagrams_sent - at_measure_start_.datagrams_sent;
    t.datagrams_lost = until.datagrams_lost - at_measure_start_.datagrams_lost;
    t.mean_nodes_up = mean_up;
    t.false_alarms = watch_->false_alarms();
    t.alarm_pairs = watch_->pairs_looked_at();
    for (const auto& c : clients_) t.redelivered += c.inbox.repeats;
    t.bytes_per_node_per_s = std::move(bytes_per_node_per_s_);
    t.bytes_by_kind = meter_->totals();
    t.stored_bytes_per_node = std::move(stored_bytes_);
    t.queue_depths = queues_->depths();
    t.work_refused = queues_->refused();
    t.digest = sim_.network().history_digest();
    return t;
}

}  // namespace dhtalk::swarm
