#pragma once
// TokenBucket: one requester's allowance, `burst` requests at once and
// `per_second` on average. It holds only its tokens and their time; the
// owner keeps the rate and the burst (one pair for many buckets) and passes
// them in. Not thread-safe: the owner guards it.

#include <algorithm>
#include <chrono>

#include "common/clock.h"

namespace dhtalk {

struct TokenBucket {
    double tokens = 0;
    SteadyTime updated{};

    // A full bucket as of `now`.
    static TokenBucket full(double burst, SteadyTime now) { return {burst, now}; }
    // Adds what `per_second` earned since the last refill, up to `burst`.
    void refill(SteadyTime now, double per_second, double burst) {
        tokens = std::min(burst, tokens + std::chrono::duration<double>(now - updated).count() * per_second);
        updated = now;
    }
    // Takes one token; false, taking nothing, when there is none.
    bool take() {
        if (tokens < 1.0) return false;
        tokens -= 1.0;
        return true;
    }
};

}  // namespace dhtalk
