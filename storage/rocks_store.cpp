#include "storage/rocks_store.h"

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

namespace dhtalk {
namespace {

Status from_rocks(const rocksdb::Status& s, const std::string& what) {
    if (s.ok()) return Status::ok();
    if (s.IsNotFound()) return Status::not_found(what + ": " + s.ToString());
    if (s.IsCorruption()) return Status::corruption(what + ": " + s.ToString());
    if (s.IsBusy() || s.IsTryAgain()) return Status::busy(what + ": " + s.ToString());
    if (s.IsIOError() && s.ToString().find("lock") != std::string::npos)
        return Status::busy(what + ": " + s.ToString());
    return Status::io_error(what + ": " + s.ToString());
}

rocksdb::Slice slice(std::string_view s) { return {s.data(), s.size()}; }

}  // namespace

Result<std::unique_ptr<RocksStore>> RocksStore::open(const std::filesystem::path& dir) {
    rocksdb::Options options;
    options.OptimizeForSmallDb();  // a node's state is small; keep memory low
    options.create_if_missing = true;
    options.paranoid_checks = true;
    options.keep_log_file_num = 4;
    options.max_log_file_size = 4 << 20;
    rocksdb::DB* raw = nullptr;
    rocksdb::Status s = rocksdb::DB::Open(options, dir.string(), &raw);
    std::unique_ptr<rocksdb::DB> db(raw);
    if (!s.ok()) return from_rocks(s, "cannot open database " + dir.string());
    return std::unique_ptr<RocksStore>(new RocksStore(std::move(db)));
}

RocksStore::RocksStore(std::unique_ptr<rocksdb::DB> db) : db_(std::move(db)) {}

RocksStore::~RocksStore() {
    if (db_) db_->Close().PermitUncheckedError();  // nothing left to do on failure while closing
}

Result<std::string> RocksStore::get(std::string_view key) const {
    std::string value;
    auto s = db_->Get(rocksdb::ReadOptions(), slice(key), &value);
    if (!s.ok()) return from_rocks(s, "get");
    return value;
}

Status RocksStore::put(std::string_view key, std::string_view value) {
    return from_rocks(db_->Put(rocksdb::WriteOptions(), slice(key), slice(value)), "put");
}

Status RocksStore::erase(std::string_view key) {
    return from_rocks(db_->Delete(rocksdb::WriteOptions(), slice(key)), "erase");
}

Status RocksStore::write(const WriteBatch& batch) {
    rocksdb::WriteBatch wb;
    for (const auto& op : batch.ops()) {
        rocksdb::Status s = op.erase ? wb.Delete(op.key) : wb.Put(op.key, op.value);
        if (!s.ok()) return from_rocks(s, "batch");
    }
    return from_rocks(db_->Write(rocksdb::WriteOptions(), &wb), "write");
}

Status RocksStore::scan(std::string_view prefix, const Visitor& visit) const {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
    for (it->Seek(slice(prefix)); it->Valid() && it->key().starts_with(slice(prefix)); it->Next()) {
        if (!visit(it->key().ToStringView(), it->value().ToStringView())) break;
    }
    return from_rocks(it->status(), "scan");
}

Status RocksStore::sync() { return from_rocks(db_->FlushWAL(true), "sync"); }

}  // namespace dhtalk
