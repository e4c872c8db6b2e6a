#pragma once
// UserRecords: what a node keeps for the users it serves, in its store.
//   uc/<user id>          the certificates it issued (no phone numbers)
//   ur/<DHT key hex>      the newest record each logged-in user published
//                         through it, republished to the DHT after every start
// Thread-safe as far as the Store is (RocksStore is).

#include <functional>
#include <string>

#include <opendht/infohash.h>

#include "dht/record.h"
#include "storage/store.h"

namespace dhtalk {

class UserRecords {
public:
    explicit UserRecords(Store& store) : store_(store) {}  // `store` must outlive this

    Status keep_certificate(const std::string& user_id, const std::string& pem);
    // Keeps `envelope` as the record under `key` (the caller has checked it
    // is newer than the one kept).
    Status keep_record(const dht::InfoHash& key, std::string_view envelope);
    Result<std::string> find_record(const dht::InfoHash& key) const;
    Status erase_record(const dht::InfoHash& key);
    // Calls `visit` with every kept record.
    Status for_each_record(const std::function<void(const dht::InfoHash&, const std::string&)>& visit) const;

private:
    Store& store_;
};

}  // namespace dhtalk
