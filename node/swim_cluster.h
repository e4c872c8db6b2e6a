#pragma once
// SwimCluster: many Swim cores (swim.h) on a simulated network, in virtual
// time, for the tests and the benchmarks. Datagrams meet a LinkModel (latency,
// loss); nodes can be stopped, slowed or cut off from each other. Events are
// processed in time order, ties in insertion order, so a run replays exactly
// from its seed. Not thread-safe.

#include <functional>
#include <memory>
#include <queue>
#include <string>
#include <vector>

#include "dht/link_model.h"
#include "node/swim.h"

namespace dhtalk {

class SwimCluster {
public:
    SwimCluster(size_t nodes, const SwimConfig& config, const LinkConfig& link, uint64_t seed);

    // Runs until `t` (virtual time since the start).
    void run_until(std::chrono::milliseconds t);
    std::chrono::milliseconds now() const;

    Swim& node(size_t i) { return *nodes_[i]; }
    const std::string& id(size_t i) const { return ids_[i]; }
    size_t size() const { return nodes_.size(); }

    // A stopped node neither sends nor receives; started again, it comes back
    // as a fresh core with a higher incarnation, as a restarted node would.
    void stop(size_t i);
    void restart(size_t i);
    bool running(size_t i) const { return up_[i]; }
    // Datagrams between a and b are dropped while `blocked(a, b)` holds.
    void set_partition(std::function<bool(size_t, size_t)> blocked) { blocked_ = std::move(blocked); }
    // Extra one-way delay on everything node i sends and receives.
    void set_extra_delay(size_t i, std::chrono::milliseconds d) { extra_delay_[i] = d; }
    // Sends raw bytes as if from node `from` (for hostile-input tests).
    void inject(size_t from, size_t to, std::string bytes);

    // Every state change any running node saw, in order.
    struct Observed {
        size_t observer;
        SwimEvent event;
    };
    const std::vector<Observed>& history() const { return history_; }
    uint64_t datagrams_sent() const { return sent_; }
    uint64_t bytes_sent() const { return bytes_; }

private:
    struct Event {
        SteadyTime at;
        uint64_t order;
        size_t node;
        bool wake;  // else a delivery
        uint64_t generation;
        std::string bytes;
        bool operator>(const Event& o) const { return at != o.at ? at > o.at : order > o.order; }
    };
    void schedule_wake(size_t i, SteadyTime at);
    void flush(size_t i);
    void make_node(size_t i, uint64_t incarnation);

    SwimConfig config_;
    LinkModel link_;
    uint64_t seed_;
    SteadyTime start_{};
    SteadyTime now_{};
    uint64_t order_ = 0;
    std::vector<std::string> ids_;
    std::vector<std::unique_ptr<Swim>> nodes_;
    std::vector<bool> up_;
    std::vector<uint64_t> generation_;
    std::vector<std::chrono::milliseconds> extra_delay_;
    std::function<bool(size_t, size_t)> blocked_;
    std::priority_queue<Event, std::vector<Event>, std::greater<>> queue_;
    std::vector<Observed> history_;
    uint64_t sent_ = 0, bytes_ = 0;
};

}  // namespace dhtalk
