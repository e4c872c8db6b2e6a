#pragma once
// LinkModel: what happens to one datagram on the simulated network: lost, or
// delivered after a one-way latency. Latency is log-normal around a median
// (a long right tail, as on real paths), clamped to [min, max], or uniform
// over [min, max]; loss is independent per datagram. Deterministic: the
// same seed and the same sequence of calls give the same fates. Not
// thread-safe.

#include <chrono>
#include <cstdint>
#include <optional>

#include "common/rng.h"

namespace dhtalk {

struct LinkConfig {
    std::chrono::microseconds median_latency{50'000};
    // Spread of the log-normal (sigma of ln latency); 0 makes latency constant.
    double latency_sigma = 0.3;
    std::chrono::microseconds min_latency{1'000};
    std::chrono::microseconds max_latency{2'000'000};
    // Latency uniform in [min_latency, max_latency] instead of log-normal.
    bool uniform = false;
    double loss = 0.0;  // probability in [0, 1]
    // Bursty loss (Gilbert-Elliott): each sender's link moves from good to
    // bad with probability burst_enter per datagram, back with burst_leave,
    // and loses burst_loss of what it sends while bad (`loss` while good).
    // burst_enter 0: no bursts.
    double burst_enter = 0.0;
    double burst_leave = 1.0;
    double burst_loss = 0.0;
    uint64_t seed = 1;
};

class LinkModel {
public:
    explicit LinkModel(const LinkConfig& config);
    // The datagram's one-way latency, or nullopt if it is lost. `in_burst`
    // is the sender's Gilbert-Elliott state, moved on by this datagram.
    std::optional<std::chrono::microseconds> fate(bool& in_burst);
    // A one-way latency as a datagram's, never lost (a stream's: TCP
    // resends what a link loses).
    std::chrono::microseconds latency();

private:
    double standard_normal();

    LinkConfig config_;
    Rng rng_;
};

}  // namespace dhtalk
