#include "sim/swarm/failure_watch.h"

#include "node/node.h"

namespace dhtalk {

using namespace std::chrono;

namespace {

constexpr milliseconds kLookEvery{250};
constexpr seconds kRejoinGrace{30};

}  // namespace

FailureWatch::FailureWatch(SimNodes& sim, std::vector<std::string> node_ids)
    : sim_(sim), started_at_(node_ids.size()) {
    for (size_t i = 0; i < node_ids.size(); ++i) slot_of_[node_ids[i]] = i;
}

void FailureWatch::crashed(size_t node, SteadyTime at) {
    open_[node] = detections_.size();
    detections_.push_back({node, at, std::nullopt});
}

void FailureWatch::started(size_t node, SteadyTime at) {
    open_.erase(node);  // restarted before everyone saw it dead: stays undetected
    started_at_.at(node) = at;
}

void FailureWatch::look(SteadyTime now, const std::vector<bool>& up, bool count) {
    if (now < next_look_) return;
    next_look_ = now + kLookEvery;
    // Per crashed node still open: whether every running node holds it dead.
    std::map<size_t, bool> all_see_dead;
    for (const auto& [node, index] : open_) all_see_dead[node] = true;
    for (size_t z = 0; z < up.size(); ++z) {
        Node* watcher = up[z] ? sim_.node(z) : nullptr;
        if (!watcher) continue;
        std::map<size_t, MemberState> seen;
        for (const auto& v : watcher->membership())
            if (auto it = slot_of_.find(v.id); it != slot_of_.end()) seen[it->second] = v.state;
        // A member missing from the view was dropped after it was declared dead.
        for (auto& [node, all] : all_see_dead)
            if (auto it = seen.find(node); it != seen.end() && it->second != MemberState::kDead) all = false;
        if (!count) continue;
        for (size_t y = 0; y < up.size(); ++y) {
            if (y == z || !up[y] || now - started_at_[y] < kRejoinGrace) continue;
            ++pairs_;
            if (auto it = seen.find(y); it != seen.end() && it->second == MemberState::kDead) ++false_alarms_;
        }
    }
    for (const auto& [node, all] : all_see_dead) {
        if (!all) continue;
        detections_[open_[node]].detected = now;
        open_.erase(node);
    }
}

}  // namespace dhtalk
