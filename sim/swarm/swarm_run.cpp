#include "sim/swarm/swarm_run.h"

#include "sim/swarm/trial.h"

namespace dhtalk {

namespace swarm {

using namespace std::chrono;

double exponential_s(Rng& rng, double mean_s) {
    double u = rng.uniform01();
    while (u <= 0.0) u = rng.uniform01();
    return -mean_s * std::log(u);
}

Trial::Trial(const Scenario& s, size_t trial, const std::filesystem::path& dir, const SwarmProgress& progress)
    : s_(s), seed_(s.seed + trial), dir_(dir), progress_(progress), rng_(seed_ ^ 0x5377'61726d), sim_(sim_config()) {
    if (s_.strategy != "dht")
        strategy_ = make_record_strategy(s_.strategy == "full" ? StrategyKind::kFull : StrategyKind::kBroadcast,
                                         sim_.network(), s_.nodes, seconds(static_cast<int64_t>(s_.cache_ttl_s)));
}

Result<SwarmTrial> Trial::run() {
    // The real time: steady_clock reads the simulation's virtual clock.
    auto wall = [start = system_clock::now()] { return duration<double>(system_clock::now() - start).count(); };
    DHTALK_TRY(found());
    wall_founding_s_ = wall();
    DHTALK_TRY(register_users());
    wall_registering_s_ = wall() - wall_founding_s_;
    plan_churn();
    const double total_s = s_.warmup_s + s_.measure_s + s_.drain_s;
    t0_ = sim_.network().now();
    measure_from_ = t0_ + seconds_of(s_.warmup_s);
    measure_to_ = measure_from_ + seconds_of(s_.measure_s);
    const SteadyTime end = measure_to_ + seconds_of(s_.drain_s);
    next_ = {t0_ + arrival(s_.resolves_per_s), t0_ + arrival(s_.vcards_per_s), t0_ + arrival(s_.presence_per_s),
             t0_ + arrival(s_.messages_per_s)};
    SteadyTime next_report = t0_;
    while (sim_.network().now() < end) {
        sim_.network().run_for(kStep);
        const SteadyTime now = sim_.network().now();
        account(now);
        if (progress_ && now >= next_report) {
            const char* phase = now < measure_from_ ? "warm-up" : now < measure_to_ ? "measuring" : "draining";
            progress_(phase, duration<double>(now - t0_).count(), total_s);
            next_report = now + seconds(1);
        }
        partition(now);
        if (now < measure_to_) {
            DHTALK_TRY(churn(now));
            watch_->look(now, up_, measuring_);
            start_operations(now);
        }
        for (size_t u = 0; u < clients_.size(); ++u) DHTALK_TRY(step(u, now));
    }
    auto trial = finish(up_samples_ ? up_sum_ / static_cast<double>(up_samples_) : 0);
    if (trial) {
        trial->wall_founding_s = wall_founding_s_;
        trial->wall_registering_s = wall_registering_s_;
        trial->wall_running_s = wall() - wall_founding_s_ - wall_registering_s_;
    }
    return trial;
}

nanoseconds Trial::arrival(double rate) {
    return rate > 0 ? seconds_of(exponential_s(rng_, 1.0 / rate)) : duration_cast<nanoseconds>(hours(24 * 365 * 100));
}

}  // namespace swarm

Result<SwarmTrial> run_swarm_trial(const Scenario& scenario, size_t trial, const std::filesystem::path& dir,
                                   const SwarmProgress& progress) {
    swarm::Trial t(scenario, trial, dir, progress);
    return t.run();
}

}  // namespace dhtalk
