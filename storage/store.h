#pragma once
// Store: the node's durable key-value state (identity metadata, snapshots of
// DHT values, later roster, records and inboxes). RocksStore keeps it on disk;
// MemoryStore keeps it in memory for tests and simulations. Both pass the same
// contract suite (tests/store_contract_test.cpp).
//
// Keys and values are byte strings. Keys are namespaced by a short prefix
// ("dv/" for DHT values, ...), so a scan over one prefix sees one kind of data.
// Implementations are thread-safe; a batch is applied atomically.

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace dhtalk {

class WriteBatch {
public:
    void put(std::string key, std::string value) { ops_.push_back({false, std::move(key), std::move(value)}); }
    void erase(std::string key) { ops_.push_back({true, std::move(key), {}}); }
    bool empty() const { return ops_.empty(); }
    size_t size() const { return ops_.size(); }

    struct Op {
        bool erase;
        std::string key;
        std::string value;
    };
    const std::vector<Op>& ops() const { return ops_; }

private:
    std::vector<Op> ops_;
};

class Store {
public:
    virtual ~Store() = default;

    // The value under `key`, or kNotFound.
    virtual Result<std::string> get(std::string_view key) const = 0;
    virtual Status put(std::string_view key, std::string_view value) = 0;
    // Erasing a missing key is not an error.
    virtual Status erase(std::string_view key) = 0;
    // Applies every operation of the batch, or none of them.
    virtual Status write(const WriteBatch& batch) = 0;

    // Calls `visit` for every key starting with `prefix`, in key order, until
    // it returns false. The store must not be modified from inside `visit`.
    using Visitor = std::function<bool(std::string_view key, std::string_view value)>;
    virtual Status scan(std::string_view prefix, const Visitor& visit) const = 0;

    // Makes every completed write durable against power loss (process crashes
    // never lose a completed write).
    virtual Status sync() = 0;
};

}  // namespace dhtalk
