#pragma once
// MemoryStore: a Store in a std::map, for tests and simulated nodes.
// Thread-safe (one mutex); nothing survives the object. Stores given one
// ValuePool share the bytes of equal values (simulated nodes' roster chains).

#include <map>
#include <memory>
#include <mutex>

#include "storage/store.h"
#include "storage/value_pool.h"

namespace dhtalk {

class MemoryStore final : public Store {
public:
    explicit MemoryStore(std::shared_ptr<ValuePool> pool = std::make_shared<ValuePool>()) : pool_(std::move(pool)) {}

    Result<std::string> get(std::string_view key) const override;
    Status put(std::string_view key, std::string_view value) override;
    Status erase(std::string_view key) override;
    Status write(const WriteBatch& batch) override;
    Status scan(std::string_view prefix, const Visitor& visit) const override;
    Status sync() override { return Status::ok(); }

private:
    using Value = std::shared_ptr<const std::string>;  // never null

    const std::shared_ptr<ValuePool> pool_;
    mutable std::mutex mutex_;
    std::map<std::string, Value, std::less<>> data_;  // guarded by mutex_
};

}  // namespace dhtalk
