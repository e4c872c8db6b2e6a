#include "storage/value_pool.h"

#include <functional>

namespace dhtalk {

std::shared_ptr<const std::string> ValuePool::intern(std::string_view value) {
    if (value.size() < kMinPooledBytes) return std::make_shared<const std::string>(value);
    const size_t hash = std::hash<std::string_view>{}(value);
    std::lock_guard lock(mutex_);
    auto [first, last] = by_hash_.equal_range(hash);
    for (auto it = first; it != last; ++it)
        if (auto held = it->second.lock(); held && *held == value) return held;
    auto made = std::make_shared<const std::string>(value);
    by_hash_.emplace(hash, made);
    if (by_hash_.size() >= sweep_at_) sweep();
    return made;
}

size_t ValuePool::size() {
    std::lock_guard lock(mutex_);
    sweep();
    return by_hash_.size();
}

void ValuePool::sweep() {
    std::erase_if(by_hash_, [](const auto& entry) { return entry.second.expired(); });
    sweep_at_ = std::max<size_t>(1024, 2 * by_hash_.size());  // amortised: at most one sweep per doubling
}

}  // namespace dhtalk
