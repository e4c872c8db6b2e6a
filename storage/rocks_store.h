#pragma once
// RocksStore: a Store in a RocksDB database on disk. Writes go through the
// write-ahead log, so a killed process loses no completed write; sync() also
// makes them survive power loss. Thread-safe (RocksDB's own guarantees).
// Opening a directory that another process holds open fails with kBusy.

#include <filesystem>
#include <memory>

#include "storage/store.h"

namespace rocksdb {
class DB;
}

namespace dhtalk {

class RocksStore final : public Store {
public:
    static Result<std::unique_ptr<RocksStore>> open(const std::filesystem::path& dir);
    ~RocksStore() override;

    Result<std::string> get(std::string_view key) const override;
    Status put(std::string_view key, std::string_view value) override;
    Status erase(std::string_view key) override;
    Status write(const WriteBatch& batch) override;
    Status scan(std::string_view prefix, const Visitor& visit) const override;
    Status sync() override;

private:
    explicit RocksStore(std::unique_ptr<rocksdb::DB> db);
    std::unique_ptr<rocksdb::DB> db_;
};

}  // namespace dhtalk
