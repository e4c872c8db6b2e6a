#pragma once
// ValueArchive: keeps the values an OpenDHT node stores for the network in
// the node's Store, so that a network whose nodes all restart loses nothing.
// OpenDHT 2.4.12 keeps values in memory only, and its own persist_path saves
// only on a clean shutdown, stamped with a steady clock that restarts at
// boot. So the archive takes OpenDHT's exportValues() output, re-stamps each
// value's creation time on the wall clock, and writes only the keys that
// changed since the last save (one atomic batch: a crash leaves the previous
// snapshot or the new one). load() stamps them back onto the current steady
// clock for importValues(), which drops those already expired.
//
// Records on disk are input like any other: bounded, versioned, and a
// damaged one is skipped and counted, never fatal. Not thread-safe: one owner.

#include <cstdint>
#include <string>
#include <map>
#include <vector>

#include <opendht/callbacks.h>
#include <opendht/infohash.h>

#include "common/clock.h"
#include "common/status.h"
#include "storage/store.h"

namespace dhtalk {

class ValueArchive {
public:
    static constexpr const char* kPrefix = "dv/";
    static constexpr uint32_t kFormatVersion = 1;
    static constexpr size_t kMaxRecordBytes = 16 << 20;
    static constexpr size_t kMaxValuesPerKey = 4096;

    // `store` and `clock` must outlive the archive.
    ValueArchive(Store& store, const Clock& clock);

    struct LoadResult {
        std::vector<dht::ValuesExport> values;  // in OpenDHT's import format
        size_t keys = 0;
        size_t value_count = 0;
        size_t skipped_records = 0;  // damaged records, left on disk untouched
    };
    Result<LoadResult> load();

    struct SaveResult {
        size_t keys_written = 0;
        size_t keys_erased = 0;
    };
    // Saves the difference between `exported` (from exportValues()) and the
    // last save or load.
    Result<SaveResult> save(const std::vector<dht::ValuesExport>& exported);

private:
    std::string store_key(const dht::InfoHash& key) const;
    // OpenDHT export blob (steady stamps) -> archive record (wall stamps).
    Result<std::string> to_record(const dht::Blob& exported) const;
    // Archive record -> OpenDHT import blob (current steady stamps).
    Result<dht::Blob> to_import_blob(std::string_view record, size_t& value_count) const;

    Store& store_;
    const Clock& clock_;
    // Wall time minus steady time, fixed for the archive's life so that an
    // unchanged value converts to the same record at every save.
    int64_t wall_minus_steady_ns_;
    // Fingerprint of each key's record as last saved, to write only changes.
    std::map<dht::InfoHash, uint64_t> saved_;
};

}  // namespace dhtalk
