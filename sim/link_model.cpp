#include "sim/link_model.h"

#include <algorithm>
#include <cmath>

namespace dhtalk {

LinkModel::LinkModel(const LinkConfig& config) : config_(config), rng_(config.seed) {}

double LinkModel::standard_normal() {
    // Box-Muller on our own Rng: std::normal_distribution differs between
    // standard libraries, which would break replay from a seed.
    double u1 = rng_.uniform01();
    while (u1 <= 0.0) u1 = rng_.uniform01();
    const double u2 = rng_.uniform01();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
}

std::optional<std::chrono::microseconds> LinkModel::fate(bool& in_burst) {
    // No draws for what is not configured: a run without bursts replays as before.
    if (config_.burst_enter > 0.0) {
        in_burst = in_burst ? !rng_.bernoulli(config_.burst_leave) : rng_.bernoulli(config_.burst_enter);
        if (in_burst && rng_.bernoulli(config_.burst_loss)) return std::nullopt;
    }
    if (config_.loss > 0.0 && rng_.bernoulli(config_.loss)) return std::nullopt;
    return latency();
}

std::chrono::microseconds LinkModel::latency() {
    if (config_.uniform) {
        const auto span = config_.max_latency - config_.min_latency;
        return config_.min_latency + std::chrono::microseconds(static_cast<int64_t>(rng_.uniform01() * static_cast<double>(span.count())));
    }
    double us = static_cast<double>(config_.median_latency.count());
    if (config_.latency_sigma > 0.0) us *= std::exp(config_.latency_sigma * standard_normal());
    const auto sampled = std::chrono::microseconds(static_cast<int64_t>(us));
    return std::clamp(sampled, config_.min_latency, config_.max_latency);
}

}  // namespace dhtalk
