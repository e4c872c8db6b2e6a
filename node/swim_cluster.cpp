#include "node/swim_cluster.h"

#include <cstdio>
#include <unordered_map>

namespace dhtalk {

using namespace std::chrono;

namespace {

std::string node_name(size_t i) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "%040zx", i + 1);  // shaped like a node id
    return buf;
}

}  // namespace

SwimCluster::SwimCluster(size_t nodes, const SwimConfig& config, const LinkConfig& link, uint64_t seed)
    : config_(config), link_(link), seed_(seed) {
    for (size_t i = 0; i < nodes; ++i) ids_.push_back(node_name(i));
    nodes_.resize(nodes);
    up_.assign(nodes, true);
    generation_.assign(nodes, 0);
    extra_delay_.assign(nodes, milliseconds(0));
    for (size_t i = 0; i < nodes; ++i) make_node(i, 0);
}

void SwimCluster::make_node(size_t i, uint64_t incarnation) {
    nodes_[i] = std::make_unique<Swim>(ids_[i], config_, seed_ * 1000003 + i * 7919 + incarnation, incarnation);
    nodes_[i]->set_members(ids_, now_);
    generation_[i]++;
    schedule_wake(i, now_);
}

milliseconds SwimCluster::now() const { return duration_cast<milliseconds>(now_ - start_); }

void SwimCluster::schedule_wake(size_t i, SteadyTime at) {
    queue_.push({at, order_++, i, true, generation_[i], {}});
}

void SwimCluster::flush(size_t i) {
    for (auto& e : nodes_[i]->take_events()) history_.push_back({i, std::move(e)});
    for (auto& d : nodes_[i]->take_outgoing()) {
        sent_++;
        bytes_ += d.bytes.size();
        // Member ids are this cluster's names: find the index.
        size_t to = std::stoul(d.to, nullptr, 16) - 1;
        if (to >= nodes_.size()) continue;
        auto fate = link_.fate();
        if (!fate || (blocked_ && blocked_(i, to))) continue;
        const auto at = now_ + *fate + extra_delay_[i] + extra_delay_[to];
        queue_.push({at, order_++, to, false, 0, std::move(d.bytes)});
    }
}

void SwimCluster::inject(size_t from, size_t to, std::string bytes) {
    (void)from;
    queue_.push({now_, order_++, to, false, 0, std::move(bytes)});
}

void SwimCluster::stop(size_t i) {
    up_[i] = false;
    generation_[i]++;
}

void SwimCluster::restart(size_t i) {
    up_[i] = true;
    make_node(i, static_cast<uint64_t>(duration_cast<milliseconds>(now_ - start_).count()) + 1);
}

void SwimCluster::run_until(milliseconds t) {
    const SteadyTime end = start_ + t;
    while (!queue_.empty() && queue_.top().at <= end) {
        Event e = queue_.top();
        queue_.pop();
        now_ = std::max(now_, e.at);
        if (!up_[e.node]) continue;
        Swim& n = *nodes_[e.node];
        if (e.wake) {
            if (e.generation != generation_[e.node]) continue;  // superseded
        } else {
            n.on_datagram(e.bytes, now_).ignore_error();  // refusals are the core's to count; tests look at outcomes
        }
        const auto next = n.tick(now_);
        flush(e.node);
        generation_[e.node]++;
        schedule_wake(e.node, next);
    }
    now_ = std::max(now_, end);
}

}  // namespace dhtalk
