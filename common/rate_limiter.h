#pragma once
// RateLimiter: a token bucket per key (a client or peer address): each key
// may make `burst` requests at once and `per_second` on average. Keys are
// bounded: past `max_keys`, the least recently seen key is forgotten (it then
// starts again with a full bucket). Thread-safe. `clock` must outlive it.

#include <mutex>
#include <string>

#include "common/clock.h"
#include "common/lru_map.h"
#include "common/token_bucket.h"

namespace dhtalk {

class RateLimiter {
public:
    RateLimiter(double per_second, double burst, size_t max_keys, const Clock& clock);
    // Takes one token for `key`; false when its bucket is empty.
    bool allow(const std::string& key);

private:
    const double per_second_;
    const double burst_;
    const Clock& clock_;
    std::mutex mutex_;
    LruMap<std::string, TokenBucket> buckets_;  // guarded by mutex_
};

}  // namespace dhtalk
