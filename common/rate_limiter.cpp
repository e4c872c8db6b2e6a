#include "common/rate_limiter.h"

namespace dhtalk {

RateLimiter::RateLimiter(double per_second, double burst, size_t max_keys, const Clock& clock)
    : per_second_(per_second), burst_(burst), clock_(clock), buckets_(max_keys) {}

bool RateLimiter::allow(const std::string& key) {
    const auto now = clock_.now();
    std::lock_guard lock(mutex_);
    TokenBucket& bucket = buckets_.find_or_insert(key, [&] { return TokenBucket::full(burst_, now); });
    bucket.refill(now, per_second_, burst_);
    return bucket.take();
}

}  // namespace dhtalk
