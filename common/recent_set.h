#pragma once
// RecentSet: the latest `capacity` keys inserted, oldest forgotten first.
// For "have we seen this lately" memories that a peer or a client can grow
// (acknowledged messages, messages already handed to a session): the bound
// is on entries, not time, so the memory a hostile stream can take is fixed.
// Unlike LruMap, a lookup does not make a key recent: a key is forgotten in
// the order it came. Not thread-safe: the owner guards it.

#include <cassert>
#include <cstddef>
#include <deque>
#include <unordered_set>

namespace dhtalk {

template <typename Key, typename Hash = std::hash<Key>>
class RecentSet {
public:
    explicit RecentSet(size_t capacity) : capacity_(capacity) { assert(capacity > 0); }

    // True if `key` was not remembered; it is then, forgetting the oldest
    // key when full. False (and nothing changes) if it was.
    bool insert(const Key& key) {
        if (!index_.insert(key).second) return false;
        order_.push_back(key);
        if (order_.size() > capacity_) {
            index_.erase(order_.front());
            order_.pop_front();
        }
        return true;
    }

    bool contains(const Key& key) const { return index_.count(key) != 0; }
    size_t size() const { return order_.size(); }

private:
    size_t capacity_;
    std::deque<Key> order_;  // oldest first
    std::unordered_set<Key, Hash> index_;
};

}  // namespace dhtalk
