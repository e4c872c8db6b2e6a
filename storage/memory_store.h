#pragma once
// MemoryStore: a Store in a std::map, for tests and simulated nodes.
// Thread-safe (one mutex); nothing survives the object.

#include <map>
#include <mutex>

#include "storage/store.h"

namespace dhtalk {

class MemoryStore final : public Store {
public:
    Result<std::string> get(std::string_view key) const override;
    Status put(std::string_view key, std::string_view value) override;
    Status erase(std::string_view key) override;
    Status write(const WriteBatch& batch) override;
    Status scan(std::string_view prefix, const Visitor& visit) const override;
    Status sync() override { return Status::ok(); }

private:
    mutable std::mutex mutex_;
    std::map<std::string, std::string, std::less<>> data_;  // guarded by mutex_
};

}  // namespace dhtalk
