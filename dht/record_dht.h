#pragma once
// RecordDht: how the front end reaches users' records in the network: put a
// record envelope under its key, get every envelope of a type under a key.
// The Overlay is the real one (OpenDHT puts and gets); a simulation may give
// another storage strategy behind the same door. Implementations are
// thread-safe; callbacks run on any thread, and may run inside the call
// that asked (OpenDHT answers at once when its runner is not running), so
// hold no lock across a call that its callback takes.

#include <functional>
#include <string>
#include <string_view>

#include "records/record.h"

namespace dhtalk {

class RecordDht {
public:
    virtual ~RecordDht() = default;
    // Publishes `envelope` under `key` and keeps announcing it while this
    // node runs; `done(true)` once a peer holds it.
    virtual void put_record(const dht::InfoHash& key, RecordType type, const std::string& envelope,
                            std::function<void(bool stored)> done) = 0;
    // Calls `found` with each value of `type` under `key` as it arrives (none
    // is checked: every caller checks), then `done` once the lookup ended.
    virtual void get_records(const dht::InfoHash& key, RecordType type, std::function<void(std::string_view)> found,
                             std::function<void()> done) = 0;
    // The issuance log (issuance_log.h): publishes the certificate `pem` of
    // `user_id` in their log and keeps announcing it while this node runs;
    // hands over every entry of the log (unchecked), then `done`.
    virtual void put_issued(const std::string& user_id, const std::string& pem, std::function<void(bool stored)> done) = 0;
    virtual void get_issued(const std::string& user_id, std::function<void(std::string_view)> found,
                            std::function<void()> done) = 0;
};

}  // namespace dhtalk
