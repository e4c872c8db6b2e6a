#pragma once
// LruMap: a map bounded in entries; when full, inserting forgets the least
// recently used entry. Finding or inserting an entry makes it the most
// recent. For per-peer and per-key state that a peer can grow (replay
// windows, rate buckets, verification caches). Not thread-safe: the owner
// guards it.

#include <cassert>
#include <cstddef>
#include <functional>
#include <list>
#include <unordered_map>
#include <utility>

namespace dhtalk {

template <typename Key, typename Value, typename Hash = std::hash<Key>>
class LruMap {
public:
    explicit LruMap(size_t capacity) : capacity_(capacity) { assert(capacity > 0); }

    // The value under `key`, now the most recent; null if there is none.
    // Valid until the entry is forgotten.
    Value* find(const Key& key) {
        auto it = index_.find(key);
        if (it == index_.end()) return nullptr;
        order_.splice(order_.begin(), order_, it->second);
        return &it->second->second;
    }

    // The value under `key`, now the most recent; if there is none, the
    // value `make()` returns is inserted, forgetting the least recent entry
    // when the map is full. Valid until the entry is forgotten.
    template <typename Make>
    Value& find_or_insert(const Key& key, Make&& make) {
        if (Value* v = find(key)) return *v;
        if (index_.size() >= capacity_) {
            index_.erase(order_.back().first);
            order_.pop_back();
        }
        order_.emplace_front(key, make());
        index_.emplace(key, order_.begin());
        return order_.front().second;
    }

    bool contains(const Key& key) const { return index_.count(key) != 0; }
    size_t size() const { return index_.size(); }

private:
    using Entry = std::pair<Key, Value>;
    size_t capacity_;
    std::list<Entry> order_;  // most recent first
    std::unordered_map<Key, typename std::list<Entry>::iterator, Hash> index_;
};

}  // namespace dhtalk
