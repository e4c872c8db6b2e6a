#pragma once
// RecordValidator: the one place that decides whether a record (record.h) is
// acceptable, used by the OpenDHT store and edit policies of every node, by
// the front end before it publishes a client's record, and again on every
// record a node returns to a client. A record is acceptable when its
// envelope opens, its user certificate was issued for this network by a
// current member and is valid now, it is stored under the key derived from
// its own type, user and locator, its expiry lies ahead but within the
// bound, its sequence (milliseconds since 1970) is not ahead of the clock by
// more than the skew, and its body fits its schema. An edit must also come
// from the same user with a higher sequence number, unless the stored record
// is no longer acceptable (expired, or its issuer left the network): then
// any acceptable record replaces it, so no record can pin a key for good.
// A pre-key bundle must sit at its own device's locator; a device list must
// be signed by a device it lists, and an edit of it keeps every removal
// (records/device_list.h).
//
// Thread-safe: OpenDHT calls the policies on its own thread. The member
// lookup must be thread-safe too.

#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include <opendht/dhtrunner.h>

#include "common/clock.h"
#include "common/lru_map.h"
#include "dht/policy_counters.h"
#include "records/record.h"

namespace dhtalk {

// The fast key (raw Ed25519, crypto/fast_key.h) of the current member with
// node id `node_id` (hex), which signs the certificates it issues, or empty
// if there is no such member.
using MemberFastKeys = std::function<std::string(const std::string& node_id)>;

class RecordValidator {
public:
    // `clock` must outlive the validator.
    RecordValidator(uint32_t network_id, MemberFastKeys members, const Clock& clock);

    // kCorruption for malformed records, kPermissionDenied for ones that are
    // well-formed but not acceptable; the message says why.
    Result<OpenedRecord> check(const dht::InfoHash& key, RecordType type, std::string_view envelope) const;
    // Whether `replacement` may replace `current` under `key`: the one edit
    // rule, for the store policy and the front end alike. A current record
    // that no longer checks (expired, issuer gone) yields to any valid one;
    // otherwise kPermissionDenied for another user's record or a sequence
    // not above the current one.
    Status check_edit(const dht::InfoHash& key, RecordType type, std::string_view current,
                      std::string_view replacement) const;
    // A user certificate: issued for this network by a current member, valid now.
    Result<crypto::UserCertificateInfo> check_certificate(const dht::crypto::Certificate& cert) const;
    // A certificate check_certificate() accepted is still acceptable: its
    // issuer is still a member and it is still valid now. The issuer's
    // signature is not checked again: the issuer's id is its key's digest.
    Status check_login(const crypto::UserCertificateInfo& info) const;
    // open_record() (record.h), with its result kept: the same records are
    // opened again and again (every replica, every get, every republish).
    // Here and from check(), OpenedRecord::certificate is null (not kept:
    // certificate_info says what the checks need).
    Result<OpenedRecord> open(std::string_view envelope) const;

    uint32_t network_id() const { return network_id_; }

private:
    // The issuer of a certificate is a current member, the certificate is for
    // this network and valid now, and `signed_by` the issuer's fast key holds.
    Status check_issuer(const crypto::UserCertificateInfo& info,
                        const std::function<bool(const std::string& fast_key)>& signed_by) const;
    // Opened envelopes and issuer signatures depend on their bytes alone:
    // their results are kept, keyed by digest, in a bounded LRU.
    // `encoded` is the certificate's PEM or DER, whichever the caller has;
    // `parsed`, its parsed form if the caller has that too (else it is
    // parsed again when the answer is not kept).
    bool issued_by_cached(const std::string& encoded, const std::string& fast_key,
                          const dht::crypto::Certificate* parsed = nullptr) const;

    static constexpr size_t kCacheEntries = 4096;
    struct Cached {
        std::shared_ptr<const Result<OpenedRecord>> opened;  // for envelopes
        bool issued = false;                                 // for certificate/issuer pairs
    };

    uint32_t network_id_;
    MemberFastKeys members_;
    const Clock& clock_;
    mutable std::mutex mutex_;
    mutable LruMap<std::string, Cached> cache_{kCacheEntries};  // guarded by mutex_
};

// The bytes an OpenDHT value carries: a record envelope, for records.
std::string_view value_bytes(const dht::Value& v);

// What a node's store policy checks of a record value a peer offers: the
// record's value type, its one value id (kRecordValueId) and the record.
[[nodiscard]] Status check_record_value(const RecordValidator& validator, const dht::InfoHash& key, RecordType type,
                                        const dht::Value* value);

// Registers the record value types on `runner`, with store and edit
// policies that run `validator` on every value a peer offers.
void register_record_types(dht::DhtRunner& runner, std::shared_ptr<const RecordValidator> validator,
                           std::shared_ptr<PolicyCounters> counters);

}  // namespace dhtalk
