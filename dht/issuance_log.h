#pragma once
// The issuance log: every user certificate a member issues, published in the
// DHT under its user's log key, so that a contact can see every key the
// network's members ever issued for a user id, who issued each and when
// (docs/messaging.md, "Key changes"). A certificate is its own proof: the
// issuer signed it, and it names its user, its network and its time. So a
// log entry is the certificate's PEM, with a value id derived from its
// bytes: a log key holds each certificate once, beside the others.
//
// Every storing node checks an entry like a record's certificate (issued for
// this network by a current member, valid now, stored under its user's log
// key) and tells `on_stored` of each it accepts, which feeds the node's
// ledger (issuance_ledger.h): what `dhtalk admin audit` counts.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <opendht/infohash.h>

#include "common/status.h"
#include "crypto/user_certificate.h"

namespace dht {
class DhtRunner;
struct Value;
}

namespace dhtalk {

class RecordValidator;
struct PolicyCounters;

inline constexpr uint16_t kIssuanceValueType = 0x4d10;
// What a node hands a client of one user's log at most (the newest): a
// member flooding a log cannot flood the clients that read it.
inline constexpr size_t kMaxIssuedPerUser = 64;

// SHA-1 of "dhtalk/issued/<user id>".
dht::InfoHash issuance_log_key(std::string_view user_id);
// The first 8 bytes of the certificate's SHA-256: its value id in the log.
uint64_t issuance_value_id(std::string_view certificate_pem);

struct IssuedCertificate {
    std::string pem;
    crypto::UserCertificateInfo info;
    uint64_t id = 0;  // issuance_value_id(pem)
};

// Whether `pem` may be an entry of the log under `key`: a user certificate
// the validator accepts (this network, a current member's, valid now) for
// the user whose log key `key` is.
Result<IssuedCertificate> check_issued(const RecordValidator& validator, const dht::InfoHash& key,
                                       std::string_view pem);
// The same for an OpenDHT value a peer offers: its type and value id too.
Result<IssuedCertificate> check_issued_value(const RecordValidator& validator, const dht::InfoHash& key,
                                             const dht::Value* value);

// Registers the log's value type on `runner`: a store policy that runs
// check_issued_value() on every offered entry and calls `on_stored` (on
// OpenDHT's thread) with each accepted one; an entry is never edited.
void register_issuance_type(dht::DhtRunner& runner, std::shared_ptr<const RecordValidator> validator,
                            std::shared_ptr<PolicyCounters> counters,
                            std::function<void(const IssuedCertificate&)> on_stored);

}  // namespace dhtalk
