#include "common/rate_limiter.h"

#include <algorithm>

namespace dhtalk {

RateLimiter::RateLimiter(double per_second, double burst, size_t max_keys, const Clock& clock)
    : per_second_(per_second), burst_(burst), max_keys_(max_keys), clock_(clock) {}

bool RateLimiter::allow(const std::string& key) {
    const auto now = clock_.now();
    std::lock_guard lock(mutex_);
    auto it = buckets_.find(key);
    if (it == buckets_.end()) {
        if (buckets_.size() >= max_keys_) {
            buckets_.erase(lru_.back());
            lru_.pop_back();
        }
        lru_.push_front(key);
        it = buckets_.emplace(key, Bucket{burst_, now, lru_.begin()}).first;
    } else {
        lru_.splice(lru_.begin(), lru_, it->second.lru);
        const double elapsed = std::chrono::duration<double>(now - it->second.updated).count();
        it->second.tokens = std::min(burst_, it->second.tokens + elapsed * per_second_);
        it->second.updated = now;
    }
    if (it->second.tokens < 1.0) return false;
    it->second.tokens -= 1.0;
    return true;
}

}  // namespace dhtalk
