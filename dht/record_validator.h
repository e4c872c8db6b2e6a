#pragma once
// RecordValidator: the one place that decides whether a record (record.h) is
// acceptable, used by the OpenDHT store and edit policies of every node, by
// the front end before it publishes a client's record, and again on every
// record a node returns to a client. A record is acceptable when its
// envelope opens, its user certificate was issued for this network by a
// current member and is valid now, it is stored under the key derived from
// its own type, user and locator, its expiry lies ahead but within the
// bound, and its body fits its schema. An edit must also come from the same
// user with a higher sequence number.
//
// Thread-safe: OpenDHT calls the policies on its own thread. The member
// lookup must be thread-safe too.

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include <opendht/dhtrunner.h>

#include "common/clock.h"
#include "dht/record.h"

namespace dhtalk {

// The certificate of the current member with node id `node_id` (hex), or
// null if there is none.
using MemberCertificates = std::function<std::shared_ptr<const dht::crypto::Certificate>(const std::string& node_id)>;

class RecordValidator {
public:
    // `clock` must outlive the validator.
    RecordValidator(uint32_t network_id, MemberCertificates members, const Clock& clock);

    // kCorruption for malformed records, kPermissionDenied for ones that are
    // well-formed but not acceptable; the message says why.
    Result<OpenedRecord> check(const dht::InfoHash& key, RecordType type, std::string_view envelope) const;
    // Whether `replacement` may replace `current` under `key`.
    Status check_edit(const dht::InfoHash& key, RecordType type, std::string_view current,
                      std::string_view replacement) const;
    // A user certificate: issued for this network by a current member, valid now.
    Result<crypto::UserCertificateInfo> check_certificate(const dht::crypto::Certificate& cert) const;

    uint32_t network_id() const { return network_id_; }

private:
    uint32_t network_id_;
    MemberCertificates members_;
    const Clock& clock_;
};

struct RecordPolicyCounters {
    std::atomic<uint64_t> accepted{0};
    std::atomic<uint64_t> refused{0};
};

// Registers the record value types on `runner`, with store and edit
// policies that run `validator` on every value a peer offers.
void register_record_types(dht::DhtRunner& runner, std::shared_ptr<const RecordValidator> validator,
                           std::shared_ptr<RecordPolicyCounters> counters);

}  // namespace dhtalk
