#include "dht/issuance_log.h"

#include <cstring>

#include <opendht/dhtrunner.h>

#include "common/log.h"
#include "crypto/signing.h"
#include "dht/policy_counters.h"
#include "dht/record_validator.h"

namespace dhtalk {

dht::InfoHash issuance_log_key(std::string_view user_id) {
    return dht::InfoHash::get("dhtalk/issued/" + std::string(user_id));
}

uint64_t issuance_value_id(std::string_view certificate_pem) {
    const std::string digest = crypto::sha256(certificate_pem);
    uint64_t id = 0;
    std::memcpy(&id, digest.data(), sizeof id);
    return id;
}

Result<IssuedCertificate> check_issued(const RecordValidator& validator, const dht::InfoHash& key,
                                       std::string_view pem) {
    if (pem.size() > crypto::kMaxCertificateBytes) return Status::corruption("an issuance log entry over its bound");
    auto cert = crypto::parse_certificate(pem);
    if (!cert) return Status::corruption("an issuance log entry that is no certificate: " + cert.status().message());
    auto info = validator.check_certificate(**cert);
    if (!info) return info.status();
    if (issuance_log_key(info->user_id) != key)
        return Status::denied("a certificate of user " + info->user_id + " in another user's issuance log");
    return IssuedCertificate{std::string(pem), *info, issuance_value_id(pem)};
}

Result<IssuedCertificate> check_issued_value(const RecordValidator& validator, const dht::InfoHash& key,
                                             const dht::Value* value) {
    if (!value || value->type != kIssuanceValueType) return Status::denied("a value of the wrong type");
    const std::string_view pem = value_bytes(*value);
    if (value->id != issuance_value_id(pem)) return Status::denied("an issuance log entry under a value id not its own");
    return check_issued(validator, key, pem);
}

void register_issuance_type(dht::DhtRunner& runner, std::shared_ptr<const RecordValidator> validator,
                            std::shared_ptr<PolicyCounters> counters,
                            std::function<void(const IssuedCertificate&)> on_stored) {
    // A certificate outlives this (a year); its issuer announces it again
    // while it runs, and the value archive keeps it across restarts.
    dht::ValueType vt(kIssuanceValueType, "dhtalk-issued",
                      std::chrono::duration_cast<std::chrono::minutes>(kMaxRecordLifetime));
    vt.storePolicy = [validator, counters, on_stored](dht::InfoHash key, std::shared_ptr<dht::Value>& v,
                                                      const dht::InfoHash&, const dht::SockAddr&) {
        auto issued = check_issued_value(*validator, key, v.get());
        if (!issued) {
            counters->refused++;
            DHTALK_LOG(kDebug, "records", "refused an issuance log entry: " << issued.status().message());
            return false;
        }
        counters->accepted++;
        if (on_stored) on_stored(*issued);
        return true;
    };
    // The value id is the certificate's digest: the same id is the same
    // certificate, announced again.
    vt.editPolicy = [](dht::InfoHash, const std::shared_ptr<dht::Value>& old, std::shared_ptr<dht::Value>& v,
                       const dht::InfoHash&, const dht::SockAddr&) {
        return old && v && old->type == v->type && old->data == v->data;
    };
    runner.registerType(vt);
}

}  // namespace dhtalk
