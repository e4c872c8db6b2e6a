#include "dht/value_archive.h"

#include <functional>

#include <msgpack.hpp>
#include <opendht/value.h>

#include "common/log.h"
#include "common/msgpack_io.h"

namespace dhtalk {
namespace {

using namespace std::chrono;

// Limits for msgpack decoding of a record: generous for real data, small
// enough that a hostile record cannot make the decoder allocate without bound.
msgpack::unpack_limit record_limit() {
    return msgpack::unpack_limit(/*array*/ ValueArchive::kMaxValuesPerKey + 2, /*map*/ 64, /*str*/ 1 << 20,
                                 /*bin*/ 1 << 20, /*ext*/ 1 << 20, /*depth*/ 16);
}

uint64_t fingerprint(std::string_view bytes) { return std::hash<std::string_view>{}(bytes); }

int64_t steady_ns(SteadyTime t) { return duration_cast<nanoseconds>(t.time_since_epoch()).count(); }
int64_t wall_ns(WallTime t) { return duration_cast<nanoseconds>(t.time_since_epoch()).count(); }

}  // namespace

ValueArchive::ValueArchive(Store& store, const Clock& clock)
    : store_(store), clock_(clock), wall_minus_steady_ns_(wall_ns(clock.wall_now()) - steady_ns(clock.now())) {}

std::string ValueArchive::store_key(const dht::InfoHash& key) const {
    std::string k = kPrefix;
    k.append(reinterpret_cast<const char*>(key.data()), key.size());
    return k;
}

// Record layout (msgpack): [format_version, [[created_unix_ms, value], ...]]
// where `value` is the value in OpenDHT's own msgpack form.
Result<std::string> ValueArchive::to_record(const dht::Blob& exported) const {
    try {
        auto handle = msgpack::unpack(reinterpret_cast<const char*>(exported.data()), exported.size());
        const msgpack::object& vals = handle.get();
        if (vals.type != msgpack::type::ARRAY) return Status::corruption("export is not an array");
        msgpack::sbuffer out;
        msgpack::packer<msgpack::sbuffer> pk(out);
        pk.pack_array(2);
        pk.pack(kFormatVersion);
        pk.pack_array(vals.via.array.size);
        for (const auto& entry : vals.via.array) {
            if (entry.type != msgpack::type::ARRAY || entry.via.array.size != 2)
                return Status::corruption("export entry is not a pair");
            const int64_t created_steady = entry.via.array.ptr[0].as<int64_t>();
            pk.pack_array(2);
            pk.pack((created_steady + wall_minus_steady_ns_) / 1'000'000);
            pk.pack(entry.via.array.ptr[1]);
        }
        return std::string(out.data(), out.size());
    } catch (const std::exception& e) {
        return Status::corruption(std::string("cannot read OpenDHT's export: ") + e.what());
    }
}

Result<dht::Blob> ValueArchive::to_import_blob(std::string_view record, size_t& value_count) const {
    if (record.size() > kMaxRecordBytes)
        return Status::corruption("record of " + std::to_string(record.size()) + " bytes exceeds the bound");
    try {
        auto handle = unpack_whole(record.data(), record.size(), record_limit(), "record");
        const msgpack::object& root = handle.get();
        if (root.type != msgpack::type::ARRAY || root.via.array.size != 2)
            return Status::corruption("record is not [version, values]");
        const auto version = root.via.array.ptr[0].as<uint32_t>();
        if (version != kFormatVersion)
            return Status::corruption("record format version " + std::to_string(version) + " is not " +
                                      std::to_string(kFormatVersion));
        const msgpack::object& vals = root.via.array.ptr[1];
        if (vals.type != msgpack::type::ARRAY) return Status::corruption("record values are not an array");

        const int64_t now_wall_ms = to_unix_millis(clock_.wall_now());
        const int64_t now_steady_ns = steady_ns(clock_.now());
        msgpack::sbuffer out;
        msgpack::packer<msgpack::sbuffer> pk(out);
        pk.pack_array(vals.via.array.size);
        for (const auto& entry : vals.via.array) {
            if (entry.type != msgpack::type::ARRAY || entry.via.array.size != 2)
                return Status::corruption("record entry is not a pair");
            const auto created_ms = entry.via.array.ptr[0].as<int64_t>();
            // Check that OpenDHT will be able to read the value before handing it over.
            dht::Value check;
            check.msgpack_unpack(entry.via.array.ptr[1]);
            // Age on the wall clock, moved onto this boot's steady clock; a
            // stamp from the future (clock set back) counts as created now.
            const int64_t age_ms = std::max<int64_t>(0, now_wall_ms - created_ms);
            pk.pack_array(2);
            pk.pack(now_steady_ns - age_ms * 1'000'000);
            pk.pack(entry.via.array.ptr[1]);
        }
        value_count += vals.via.array.size;
        return dht::Blob(out.data(), out.data() + out.size());
    } catch (const DecodeError& e) {
        return Status::corruption(e.what);
    } catch (const std::exception& e) {
        return Status::corruption(std::string("malformed record: ") + e.what());
    }
}

Result<ValueArchive::LoadResult> ValueArchive::load() {
    LoadResult result;
    saved_.clear();
    const size_t prefix_len = std::string_view(kPrefix).size();
    Status scanned = store_.scan(kPrefix, [&](std::string_view key, std::string_view record) {
        if (key.size() != prefix_len + dht::InfoHash::size()) {
            result.skipped_records++;
            DHTALK_LOG(kWarning, "archive", "skipping a record with a malformed key");
            return true;
        }
        dht::InfoHash hash(reinterpret_cast<const uint8_t*>(key.data() + prefix_len), dht::InfoHash::size());
        auto blob = to_import_blob(record, result.value_count);
        if (!blob) {
            result.skipped_records++;
            DHTALK_LOG(kWarning, "archive", "skipping the record of " << hash << ": " << blob.status().message());
            return true;
        }
        saved_[hash] = fingerprint(record);
        result.values.emplace_back(hash, std::move(blob).value());
        result.keys++;
        return true;
    });
    DHTALK_TRY(scanned);
    return result;
}

Result<ValueArchive::SaveResult> ValueArchive::save(const std::vector<dht::ValuesExport>& exported) {
    SaveResult result;
    WriteBatch batch;
    std::map<dht::InfoHash, uint64_t> now_saved;
    for (const auto& [key, blob] : exported) {
        auto record = to_record(blob);
        if (!record) {
            DHTALK_LOG(kWarning, "archive", "not saving " << key << ": " << record.status().message());
            continue;
        }
        const uint64_t fp = fingerprint(*record);
        now_saved[key] = fp;
        if (auto it = saved_.find(key); it != saved_.end() && it->second == fp) continue;
        batch.put(store_key(key), std::move(record).value());
        result.keys_written++;
    }
    for (const auto& [key, fp] : saved_) {
        if (now_saved.count(key)) continue;
        batch.erase(store_key(key));
        result.keys_erased++;
    }
    if (!batch.empty()) DHTALK_TRY(store_.write(batch));
    saved_ = std::move(now_saved);
    return result;
}

}  // namespace dhtalk
