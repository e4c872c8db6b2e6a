#pragma once
// ValuePool: one copy of equal values for many MemoryStores. A simulation's
// nodes each keep a store of their own (their disk), and every one of them
// holds the same roster chain, whose epochs list every member: a copy per
// node made the stored chains the larger part of a simulated network's
// memory. Values are kept while a store holds them. Thread-safe.

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace dhtalk {

class ValuePool {
public:
    // Shorter values are copied, not pooled: the bookkeeping would cost more.
    static constexpr size_t kMinPooledBytes = 256;

    // The pooled copy of `value`, made if none is held.
    std::shared_ptr<const std::string> intern(std::string_view value);
    // Values held by some store (for tests).
    size_t size();

private:
    void sweep();  // drops the entries of values no store holds any more

    std::mutex mutex_;
    std::unordered_multimap<size_t, std::weak_ptr<const std::string>> by_hash_;  // guarded by mutex_
    size_t sweep_at_ = 1024;                                                     // guarded by mutex_
};

}  // namespace dhtalk
