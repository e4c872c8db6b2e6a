#pragma once
// ReplayWindow: accepts each sequence number of one sender at most once,
// within a sliding window of the last kSize numbers (as IPsec does); older
// numbers are refused. ReplayGuard keeps one window per sender instance,
// bounded in count: the least recently heard instance is forgotten first.
// Pure logic, not thread-safe.

#include <bitset>
#include <cstdint>

#include "common/lru_map.h"

namespace dhtalk {

class ReplayWindow {
public:
    static constexpr uint64_t kSize = 1024;
    // True (and remembered) if `seq` is new and not older than the window.
    bool accept(uint64_t seq);

private:
    uint64_t highest_ = 0;
    bool any_ = false;
    std::bitset<kSize> seen_;  // bit (seq % kSize) for seq in (highest_ - kSize, highest_]
};

class ReplayGuard {
public:
    explicit ReplayGuard(size_t max_senders) : windows_(max_senders) {}
    bool accept(uint64_t sender, uint64_t seq) {
        return windows_.find_or_insert(sender, [] { return ReplayWindow{}; }).accept(seq);
    }
    size_t senders() const { return windows_.size(); }

private:
    LruMap<uint64_t, ReplayWindow> windows_;
};

}  // namespace dhtalk
