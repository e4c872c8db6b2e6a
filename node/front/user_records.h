#pragma once
// UserRecords: what a node keeps for the users it serves, in its store.
//   uc/<user id>                  the certificates it issued (no phone numbers)
//   ur/<user id>/<DHT key hex>    the newest record each logged-in user
//                                 published through it, republished to the
//                                 DHT after every start
//   uu/<user id>                  "<records> <bytes>": what that user keeps here
//                                 (recounted from the records if damaged)
// A user's records are bounded in count and bytes (RecordQuota), so no user
// can fill the node's store or push its DHT storage toward OpenDHT's limit.
// The usage line changes in the same batch as the record, so a crash never
// leaves it wrong. Thread-safe.

#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include <opendht/infohash.h>

#include "records/record.h"
#include "storage/store.h"

namespace dhtalk {

struct RecordQuota {
    size_t records = 256;           // records one user keeps on this node
    size_t bytes = 4u << 20;        // their envelopes' bytes in all
};

struct RecordUsage {
    size_t records = 0;
    size_t bytes = 0;
};

class UserRecords {
public:
    // `store` must outlive this.
    explicit UserRecords(Store& store, RecordQuota quota = {}) : store_(store), quota_(quota) {}

    Status keep_certificate(const std::string& user_id, const std::string& pem);
    // The last certificate this node issued to `user_id`, or kNotFound.
    Result<std::string> find_certificate(const std::string& user_id) const { return store_.get("uc/" + user_id); }
    // Calls `visit` with every kept certificate (the last issued to each user).
    Status for_each_certificate(const std::function<void(const std::string& user_id, const std::string& pem)>& visit) const;
    // Keeps `envelope` as `user_id`'s record under `key` (the caller has
    // checked it is newer than the one kept). kResourceExhausted if the user
    // would go over the quota; a replacement counts only its growth.
    Status keep_record(const std::string& user_id, const dht::InfoHash& key, std::string_view envelope);
    Result<std::string> find_record(const std::string& user_id, const dht::InfoHash& key) const;
    Status erase_record(const std::string& user_id, const dht::InfoHash& key);
    RecordUsage usage(const std::string& user_id) const;
    // Calls `visit` with every kept record and its user.
    Status for_each_record(
        const std::function<void(const std::string& user_id, const dht::InfoHash&, const std::string&)>& visit) const;
    // The same for one user's records.
    Status for_each_record_of(const std::string& user_id,
                              const std::function<void(const dht::InfoHash&, const std::string&)>& visit) const;
    // Moves records kept under the layout before quotas (`ur/<DHT key hex>`)
    // to their user's place, counted; `user_of` names a record's user, or
    // nullopt for one that no longer opens (dropped). Returns how many moved.
    size_t migrate_legacy(const std::function<std::optional<std::string>(const std::string& envelope)>& user_of);

private:
    RecordUsage usage_locked(const std::string& user_id) const;  // mutex_ held
    RecordUsage recount(const std::string& user_id) const;       // from the records themselves

    Store& store_;
    const RecordQuota quota_;
    mutable std::mutex mutex_;  // serialises read-modify-write of usage lines
};

}  // namespace dhtalk
