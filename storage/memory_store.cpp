#include "storage/memory_store.h"

namespace dhtalk {

Result<std::string> MemoryStore::get(std::string_view key) const {
    std::lock_guard lock(mutex_);
    auto it = data_.find(key);
    if (it == data_.end()) return Status::not_found("no value under the key");
    return *it->second;
}

Status MemoryStore::put(std::string_view key, std::string_view value) {
    Value pooled = pool_->intern(value);
    std::lock_guard lock(mutex_);
    data_.insert_or_assign(std::string(key), std::move(pooled));
    return Status::ok();
}

Status MemoryStore::erase(std::string_view key) {
    std::lock_guard lock(mutex_);
    if (auto it = data_.find(key); it != data_.end()) data_.erase(it);
    return Status::ok();
}

Status MemoryStore::write(const WriteBatch& batch) {
    std::vector<Value> pooled;  // made before the lock: the pool has a lock of its own
    for (const auto& op : batch.ops())
        if (!op.erase) pooled.push_back(pool_->intern(op.value));
    std::lock_guard lock(mutex_);
    auto next = pooled.begin();
    for (const auto& op : batch.ops()) {
        if (op.erase)
            data_.erase(op.key);
        else
            data_.insert_or_assign(op.key, std::move(*next++));
    }
    return Status::ok();
}

Status MemoryStore::scan(std::string_view prefix, const Visitor& visit) const {
    // Copy the matching range first so that `visit` runs without the lock.
    std::vector<std::pair<std::string, Value>> hits;
    {
        std::lock_guard lock(mutex_);
        for (auto it = data_.lower_bound(prefix); it != data_.end() && it->first.starts_with(prefix); ++it)
            hits.emplace_back(*it);
    }
    for (const auto& [k, v] : hits)
        if (!visit(k, *v)) break;
    return Status::ok();
}

}  // namespace dhtalk
