// Churn: nodes departing and restarting from the session model, the mass
// failure and the flash crowd.
#include "sim/swarm/trial.h"

#include <algorithm>
#include <cmath>

namespace dhtalk::swarm {

using namespace std::chrono;

size_t Trial::live_node(size_t avoid) {
    for (;;) {
        const size_t n = rng_.uniform(s_.nodes);
        if (up_[n] && (n != avoid || up_count() == 1)) return n;
    }
}

void Trial::plan_churn() {
    const SteadyTime start = sim_.network().now();
    const SessionTimes sessions(s_.churn, s_.median_session_s, s_.session_shape);
    for (size_t n = 0; n < s_.nodes; ++n)
        if (auto first = sessions.draw(rng_)) churn_.push({start + seconds_of(*first), n, ChurnEvent::Kind::kDepart});
    if (s_.mass_failure_at_s >= 0 && s_.mass_failure_share > 0)
        churn_.push({start + seconds_of(s_.warmup_s + s_.mass_failure_at_s), 0, ChurnEvent::Kind::kMassFailure});
    if (s_.flash_crowd_at_s >= 0 && s_.flash_crowd_share > 0) {
        flash_crowd_at_ = start + seconds_of(s_.warmup_s + s_.flash_crowd_at_s);
        churn_.push({start, 0, ChurnEvent::Kind::kFlashAway});
        churn_.push({flash_crowd_at_, 0, ChurnEvent::Kind::kFlashCrowd});
    }
}

// The running nodes in a random order.
std::vector<size_t> Trial::running_shuffled() {
    std::vector<size_t> running;
    for (size_t n = 0; n < s_.nodes; ++n)
        if (up_[n]) running.push_back(n);
    for (size_t k = running.size(); k > 1; --k) std::swap(running[k - 1], running[rng_.uniform(k)]);
    return running;
}

// How many of `running` nodes a share may take down, leaving kMinNodesUp.
size_t Trial::share_of(double share, size_t running) {
    return std::min(running - std::min(running, kMinNodesUp),
                    static_cast<size_t>(share * static_cast<double>(running) + 0.5));
}

// Node `n` crashes or leaves; it restarts after a downtime, or, with
// `restart` false, when something else starts it (a flash crowd).
Status Trial::take_down(size_t n, bool crash, SteadyTime now, bool restart) {
    if (crash) sim_.crash(n);
    else sim_.stop(n);
    up_[n] = false;
    if (strategy_) strategy_->stopped(n);
    if (crash) watch_->crashed(n, now);
    record(now, static_cast<int64_t>(n), -1, crash ? "crash" : "leave", "ok");
    if (restart) churn_.push({now + seconds_of(downtime_s()), n, ChurnEvent::Kind::kRestart});
    return Status::ok();
}

// Node `n` starts again on its own store, from a running node, and
// draws its next session.
Status Trial::bring_up(size_t n, SteadyTime now, const SessionTimes& sessions) {
    NodeConfig again = base_;
    again.bootstrap = {sim_.endpoint(live_node(n))};
    Status started = sim_.start(n, again);
    if (!started) return Status(started.code(), "restarting node " + std::to_string(n) + ": " + started.message());
    up_[n] = true;
    if (strategy_) strategy_->started(n);
    watch_->started(n, now);
    record(now, static_cast<int64_t>(n), -1, "restart", "ok");
    if (auto next = sessions.draw(rng_)) churn_.push({now + seconds_of(*next), n, ChurnEvent::Kind::kDepart});
    return Status::ok();
}

Status Trial::churn(SteadyTime now) {
    const SessionTimes sessions(s_.churn, s_.median_session_s, s_.session_shape);
    while (!churn_.empty() && churn_.top().at <= now) {
        const ChurnEvent e = churn_.top();
        churn_.pop();
        if (e.kind == ChurnEvent::Kind::kMassFailure) {
            const std::vector<size_t> running = running_shuffled();
            const size_t fail = share_of(s_.mass_failure_share, running.size());
            record(now, -1, -1, "mass-failure", std::to_string(fail) + " nodes");
            for (size_t k = 0; k < fail; ++k) DHTALK_TRY(take_down(running[k], true, now));
        } else if (e.kind == ChurnEvent::Kind::kFlashAway) {
            // The users' first vCards go out through their home nodes
            // just before: the nodes leave once those are answered
            // (stored), else their users would have no record at all;
            // at the latest just before the crowd comes back.
            const bool busy = std::any_of(clients_.begin(), clients_.end(), [](const Client& c) { return !c.pending.empty(); });
            if (busy && now + 2 * kStep < flash_crowd_at_) {
                churn_.push({now + kStep, e.node, e.kind});
                continue;
            }
            flash_away_done_ = true;
            const std::vector<size_t> running = running_shuffled();
            const size_t away = share_of(s_.flash_crowd_share, running.size());
            record(now, -1, -1, "flash-away", std::to_string(away) + " nodes");
            for (size_t k = 0; k < away; ++k) {
                DHTALK_TRY(take_down(running[k], false, now, /*restart=*/false));
                flash_crowd_.push_back(running[k]);
            }
        } else if (e.kind == ChurnEvent::Kind::kFlashCrowd) {
            if (!flash_away_done_) {  // due at the same time, and not yet taken
                churn_.push({now + kStep, e.node, e.kind});
                continue;
            }
            record(now, -1, -1, "flash-crowd", std::to_string(flash_crowd_.size()) + " nodes");
            for (size_t n : flash_crowd_)
                if (!up_[n]) DHTALK_TRY(bring_up(n, now, sessions));
            flash_crowd_.clear();
        } else if (e.kind == ChurnEvent::Kind::kDepart) {
            if (!up_[e.node]) continue;  // down already (a mass failure): its restart plans the next
            if (up_count() <= kMinNodesUp) {
                if (auto again = sessions.draw(rng_)) churn_.push({now + seconds_of(*again), e.node, e.kind});
                continue;
            }
            DHTALK_TRY(take_down(e.node, !rng_.bernoulli(s_.leave_share), now));
        } else {
            DHTALK_TRY(bring_up(e.node, now, sessions));
        }
    }
    return Status::ok();
}

}  // namespace dhtalk::swarm
