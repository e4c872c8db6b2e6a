#pragma once
// SharedStore: one holder's handle on a store shared with others. A
// simulation or a test gives each node a SharedStore over a MemoryStore
// that outlives the node, so a node reopened on it finds its state, as a
// real node finds its database. Thread-safe as the store below is.

#include <memory>

#include "storage/store.h"

namespace dhtalk {

class SharedStore final : public Store {
public:
    explicit SharedStore(std::shared_ptr<Store> store) : store_(std::move(store)) {}
    Result<std::string> get(std::string_view key) const override { return store_->get(key); }
    Status put(std::string_view key, std::string_view value) override { return store_->put(key, value); }
    Status erase(std::string_view key) override { return store_->erase(key); }
    Status write(const WriteBatch& batch) override { return store_->write(batch); }
    Status scan(std::string_view prefix, const Visitor& visit) const override { return store_->scan(prefix, visit); }
    Status sync() override { return store_->sync(); }

private:
    std::shared_ptr<Store> store_;
};

}  // namespace dhtalk
