#pragma once
// The inside of run_swarm_trial (swarm_run.h): one trial's state, and its
// steps in the files named below. One class over several files, because
// every step draws from the trial's one random stream, in an order that
// makes a seed replay: a step moved to another object would still have to
// draw from it at the same point.

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <optional>
#include <queue>

#include "common/clock.h"
#include "common/rng.h"
#include "sim/inbox_follower.h"
#include "sim/sim_nodes.h"
#include "sim/sim_ops.h"
#include "sim/swarm/churn_model.h"
#include "sim/swarm/failure_watch.h"
#include "sim/swarm/queue_meter.h"
#include "sim/swarm/record_strategies.h"
#include "sim/swarm/swarm_run.h"
#include "sim/swarm/traffic_meter.h"
#include "sim/swarm/zipf.h"

namespace dhtalk::swarm {

inline constexpr std::chrono::milliseconds kStep{5};       // how often clients look at their sessions
inline constexpr std::chrono::seconds kAnswerWithin{30};   // a request unanswered by then timed out
inline constexpr std::chrono::seconds kFetchEvery{60};     // as `dhtalk inbox --follow`
inline constexpr std::chrono::seconds kResendAfter{10};    // a message not stored by then is sent again (same id)
inline constexpr std::chrono::seconds kRetryLogin{2};      // after a failover a node refused
inline constexpr std::chrono::seconds kSettle{10};         // after founding: the membership protocol settles
inline constexpr size_t kMinNodesUp = 2;                   // churn never takes the network below this
inline constexpr unsigned kNodeKeyBits = 2048;             // OpenDHT's node identities (RSA)
inline constexpr int64_t kVCardLifetimeS = 24 * 3600;

// A draw from the exponential distribution with that mean.
double exponential_s(Rng& rng, double mean_s);

struct Pending {
    enum class Kind { kResolve, kPut, kSend, kFetch, kOther };
    Kind kind = Kind::kOther;
    size_t index = 0;  // kResolve, kPut: the operation; kSend: the message
    uint64_t id = 0;
    SteadyTime asked{};
};

struct Client {
    SimUser user;
    std::string address;
    size_t home = 0;  // the node it registered through and logs in on first
    size_t node = 0;
    uint64_t session = 0;  // 0: not logged in
    size_t pushes_read = 0;
    SteadyTime next_fetch{};
    uint64_t vcard_sequence = 0;
    SteadyTime retry_login{};  // after a failed failover
    std::vector<size_t> watching;
    std::vector<Pending> pending;
    InboxFollower inbox;
};

// A resolve or a vCard update, waiting for its answer.
struct Operation {
    SwarmEvent event;
    SteadyTime started{};
};

struct Message {
    size_t from = 0, to = 0;
    SteadyTime sent{};
    bool stored = false;
    std::optional<SteadyTime> delivered;
};

struct PresenceChange {
    size_t user = 0;
    SteadyTime at{};
    std::vector<size_t> watchers;  // logged in when it changed
    std::vector<std::optional<SteadyTime>> seen;
};

// Churn: each node's departures and restarts, from the session model, the
// mass failure and the flash crowd. Planned from the start of the warm-up.
struct ChurnEvent {
    SteadyTime at;
    size_t node;
    // kFlashAway: the flash crowd's nodes leave; kFlashCrowd: they join.
    enum class Kind { kDepart, kRestart, kMassFailure, kFlashAway, kFlashCrowd } kind;
    bool operator<(const ChurnEvent& o) const { return at != o.at ? at > o.at : node > o.node; }  // a min-heap
};

class Trial {
public:
    Trial(const Scenario& s, size_t trial, const std::filesystem::path& dir, const SwarmProgress& progress);

    // trial_run.cpp: founding, registering, then the steps until the drain ends.
    Result<SwarmTrial> run();

private:
    static std::chrono::nanoseconds seconds_of(double s) {
        return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(s));
    }
    std::chrono::nanoseconds arrival(double rate);
    double since_measure(SteadyTime t) const { return std::chrono::duration<double>(t - measure_from_).count(); }
    bool measured(SteadyTime t) const { return t >= measure_from_ && t < measure_to_; }
    void record(SteadyTime t, int64_t node, int64_t user, const std::string& kind, const std::string& outcome,
                double latency_ms = -1, uint64_t ref = 0, bool home_down = false) {
        events_.push_back({since_measure(t), node, user, kind, outcome, latency_ms, ref, home_down});
    }
    size_t up_count() const { return static_cast<size_t>(std::count(up_.begin(), up_.end(), true)); }
    bool online(size_t u) const { return clients_[u].session != 0 && up_[clients_[u].node]; }

    // trial_setup.cpp
    SimNodesConfig sim_config() const;
    Status found();
    Status shape_links();
    std::vector<SimNetwork::HostId> node_hosts(size_t i) const;
    void partition(SteadyTime now);
    Status register_users();
    Status log_in(size_t u, size_t node);

    // trial_churn.cpp
    size_t live_node(size_t avoid);
    void plan_churn();
    std::vector<size_t> running_shuffled();
    static size_t share_of(double share, size_t running);
    double downtime_s() { return exponential_s(rng_, s_.median_downtime_s / std::log(2.0)); }
    Status take_down(size_t n, bool crash, SteadyTime now, bool restart = true);
    Status bring_up(size_t n, SteadyTime now, const SessionTimes& sessions);
    Status churn(SteadyTime now);

    // trial_clients.cpp
    void ask(size_t u, const std::string& method, FrameParams params, Pending p);
    void start_operations(SteadyTime now);
    void publish_vcard(size_t u, std::optional<SteadyTime> now);
    void send(size_t index);
    void answered(Operation& op, SteadyTime now, const std::string& outcome);
    void handed(size_t u, const std::string& encoded, SteadyTime now);
    void pushed(size_t u, const ClientFrame& f, SteadyTime now);
    Status step(size_t u, SteadyTime now);

    // trial_figures.cpp
    void account(SteadyTime now);
    void sample_storage();
    Result<SwarmTrial> finish(double mean_up);

    const Scenario& s_;
    const uint64_t seed_;
    const std::filesystem::path dir_;
    const SwarmProgress& progress_;
    Rng rng_;
    SimNodes sim_;
    NodeConfig base_;
    std::vector<bool> up_;
    std::vector<Client> clients_;
    std::optional<Zipf> popular_;
    std::map<size_t, std::vector<size_t>> watchers_;  // user -> who watches them
    std::priority_queue<ChurnEvent> churn_;
    std::vector<size_t> flash_crowd_;  // the nodes away until the flash crowd
    SteadyTime flash_crowd_at_{};      // when they join
    bool flash_away_done_ = false;
    SteadyTime t0_{}, measure_from_{}, measure_to_{};
    std::array<SteadyTime, 4> next_{};  // the next resolve, vCard update, presence change, message
    std::vector<Operation> operations_;
    std::vector<Message> messages_;
    std::vector<PresenceChange> changes_;
    std::vector<SwarmEvent> events_;
    bool measuring_ = false;
    bool split_ = false, healed_ = false;
    double up_sum_ = 0;  // nodes running, summed over the measurement's steps
    size_t up_samples_ = 0;
    SteadyTime next_sample_{};
    uint64_t bytes_at_sample_ = 0;
    std::vector<double> bytes_per_node_per_s_;
    std::vector<double> stored_bytes_;
    double wall_founding_s_ = 0, wall_registering_s_ = 0;
    std::unique_ptr<RecordStrategy> strategy_;  // null: the DHT
    std::optional<FailureWatch> watch_;
    std::optional<TrafficMeter> meter_;
    std::optional<QueueMeter> queues_;
    SimNetwork::Stats at_measure_start_;
    std::optional<SimNetwork::Stats> at_measure_end_;
};

}  // namespace dhtalk::swarm
