#include "dht/record_validator.h"

#include "common/log.h"
#include "crypto/signing.h"
#include "records/device_list.h"
#include "records/pre_key_bundle.h"
#include "records/record_bodies.h"

namespace dhtalk {

using namespace std::chrono;

RecordValidator::RecordValidator(uint32_t network_id, MemberFastKeys members, const Clock& clock)
    : network_id_(network_id), members_(std::move(members)), clock_(clock) {}

Result<OpenedRecord> RecordValidator::open(std::string_view envelope) const {
    const std::string digest = "e" + crypto::sha256(envelope);
    {
        std::lock_guard lock(mutex_);
        if (const Cached* hit = cache_.find(digest)) return *hit->opened;
    }
    auto result = open_record(envelope);
    // Kept without the parsed certificate: GnuTLS's form of it is several
    // times the record, and the issuer's signature is all that needs it
    // again (issued_by_cached parses it anew when that answer is not kept).
    if (result) result->certificate.reset();
    auto opened = std::make_shared<const Result<OpenedRecord>>(std::move(result));
    std::lock_guard lock(mutex_);
    cache_.find_or_insert(digest, [&] { return Cached{opened, false}; });
    return *opened;
}

bool RecordValidator::issued_by_cached(const std::string& encoded, const std::string& fast_key,
                                       const dht::crypto::Certificate* parsed) const {
    // The certificate and the key fix the answer.
    const std::string digest = "c" + crypto::sha256(encoded + "\n" + fast_key);
    {
        std::lock_guard lock(mutex_);
        if (const Cached* hit = cache_.find(digest)) return hit->issued;
    }
    bool issued = false;
    if (parsed) {
        issued = crypto::issued_with_fast_key(*parsed, fast_key);
    } else if (auto cert = crypto::parse_certificate(encoded)) {  // it parsed when its record was opened
        issued = crypto::issued_with_fast_key(**cert, fast_key);
    }
    std::lock_guard lock(mutex_);
    cache_.find_or_insert(digest, [&] { return Cached{nullptr, issued}; });
    return issued;
}

Status RecordValidator::check_issuer(const crypto::UserCertificateInfo& info,
                                     const std::function<bool(const std::string& fast_key)>& signed_by) const {
    const std::string issuer = members_(info.issuer_node_id);
    if (issuer.empty())
        return Status::denied("the certificate was issued by node " + info.issuer_node_id +
                              ", which is not a member of this network (banned, or never admitted)");
    DHTALK_TRY(crypto::check_user_certificate(info, network_id_, clock_.wall_now()));
    if (!signed_by(issuer)) return Status::denied("the certificate is not signed by the node it names");
    return Status::ok();
}

Result<crypto::UserCertificateInfo> RecordValidator::check_certificate(const dht::crypto::Certificate& cert) const {
    // Certificates from a TLS handshake come here without parse_certificate().
    if (Status key = crypto::check_public_key(cert); !key) return Status::denied(key.message());
    auto info = crypto::inspect_user_certificate(cert);
    if (!info) return Status::denied("not a dhtalk user certificate: " + info.status().message());
    // Every login of a user presents the same certificate, resumed or not.
    const auto packed = cert.getPacked();  // OpenDHT 2.4.12 packs it as PEM
    const std::string encoded(packed.begin(), packed.end());
    DHTALK_TRY(check_issuer(*info, [&](const std::string& key) { return issued_by_cached(encoded, key, &cert); }));
    return info;
}

Status RecordValidator::check_login(const crypto::UserCertificateInfo& info) const {
    return check_issuer(info, [](const std::string&) { return true; });
}

Result<OpenedRecord> RecordValidator::check(const dht::InfoHash& key, RecordType type,
                                            std::string_view envelope) const {
    auto opened = open(envelope);
    if (!opened) return opened.status();
    const Record& r = opened->record;
    if (r.type != type) return Status::denied("a " + std::string(record_type_name(r.type)) + " record in a value of another type");
    if (record_key(r.type, r.user_id, r.locator) != key)
        return Status::denied("a record of user " + r.user_id + " stored under a key not derived from it");
    const auto& info = opened->certificate_info;
    DHTALK_TRY(check_issuer(info, [&](const std::string& key) {
        return issued_by_cached(r.certificate, key);
    }));
    const int64_t now = to_unix_seconds(clock_.wall_now());
    // A sequence far ahead would win every edit until then: 2^64-1 locks its
    // user out for good.
    const auto latest_sequence =
        static_cast<uint64_t>(to_unix_millis(clock_.wall_now()) + milliseconds(kRecordClockSkew).count());
    if (r.sequence > latest_sequence)
        return Status::denied("the record's sequence " + std::to_string(r.sequence) +
                              " lies ahead of the clock (sequences are milliseconds since 1970)");
    if (r.expires_at_s <= now) return Status::denied("the record has expired");
    if (r.expires_at_s > now + (kMaxRecordLifetime + kRecordClockSkew).count())
        return Status::denied("the record expires beyond the " + std::to_string(kMaxRecordLifetime.count() / 86400) +
                              "-day bound");
    switch (r.type) {
    case RecordType::kVCard: {
        auto v = decode_vcard(r.body);
        if (!v) return Status::corruption("the vCard does not fit its schema: " + v.status().message());
        break;
    }
    case RecordType::kPreKeys: {
        auto b = decode_pre_key_bundle(r.body);
        if (!b) return Status::corruption("the pre-key bundle does not fit its schema: " + b.status().message());
        // One bundle per device, where only that device's key may write it.
        if (r.locator != device_locator(info.device_id))
            return Status::denied("a pre-key bundle stored at a locator other than its device's");
        break;
    }
    case RecordType::kDevices: {
        auto list = decode_device_list(r.body);
        if (!list) return Status::corruption("the device list does not fit its schema: " + list.status().message());
        DHTALK_TRY(check_device_list_signer(*list, info.device_id));
        break;
    }
    case RecordType::kPrivacy:
    case RecordType::kMedia:
        // Ciphertext: only its owner (or a reference holder) can check more.
        if (r.body.empty()) return Status::corruption("an empty encrypted record body");
        break;
    }
    return opened;
}

std::string_view value_bytes(const dht::Value& v) {
    return {reinterpret_cast<const char*>(v.data.data()), v.data.size()};
}

Status RecordValidator::check_edit(const dht::InfoHash& key, RecordType type, std::string_view current,
                                   std::string_view replacement) const {
    auto next = check(key, type, replacement);
    if (!next) return next.status();
    // The stored value was checked when it came in; it may since have expired
    // or lost its issuer, and then any valid record replaces it.
    auto prev = check(key, type, current);
    if (!prev) return Status::ok();
    if (prev->record.user_id != next->record.user_id)
        return Status::denied("a record of another user cannot replace this one");
    if (next->record.sequence <= prev->record.sequence)
        return Status::denied("sequence " + std::to_string(next->record.sequence) + " does not follow " +
                              std::to_string(prev->record.sequence) + ", the one published: use a higher one");
    if (type == RecordType::kDevices) {
        // Both decoded in check().
        auto before = decode_device_list(prev->record.body);
        auto after = decode_device_list(next->record.body);
        if (before && after) DHTALK_TRY(check_device_list_successor(*before, *after));
    }
    return Status::ok();
}

namespace {

// Records of a type have one value id, so a key holds one record of each
// type and an edit replaces it: values with other ids would pile up beside it.
Status record_value_shape(RecordType type, const dht::Value* v) {
    if (!v || v->type != record_value_type(type)) return Status::denied("a value of the wrong type");
    if (v->id != kRecordValueId)
        return Status::denied("a record value with id " + std::to_string(v->id) + " (records have id " +
                              std::to_string(kRecordValueId) + ")");
    return Status::ok();
}

}  // namespace

Status check_record_value(const RecordValidator& validator, const dht::InfoHash& key, RecordType type,
                          const dht::Value* value) {
    DHTALK_TRY(record_value_shape(type, value));
    return validator.check(key, type, value_bytes(*value)).status();
}

void register_record_types(dht::DhtRunner& runner, std::shared_ptr<const RecordValidator> validator,
                           std::shared_ptr<PolicyCounters> counters) {
    for (RecordType type : kAllRecordTypes) {
        auto count = [counters](const Status& s, const char* what) {
            (s ? counters->accepted : counters->refused)++;
            if (!s) DHTALK_LOG(kDebug, "records", "refused a " << what << ": " << s.message());
            return s.is_ok();
        };
        dht::ValueType vt(record_value_type(type), std::string("dhtalk-") + record_type_name(type),
                          std::chrono::duration_cast<std::chrono::minutes>(kMaxRecordLifetime));
        vt.storePolicy = [validator, type, count](dht::InfoHash key, std::shared_ptr<dht::Value>& v,
                                                  const dht::InfoHash&, const dht::SockAddr&) {
            return count(check_record_value(*validator, key, type, v.get()), "store");
        };
        vt.editPolicy = [validator, type, count](dht::InfoHash key, const std::shared_ptr<dht::Value>& old,
                                                 std::shared_ptr<dht::Value>& v, const dht::InfoHash&,
                                                 const dht::SockAddr&) {
            Status s = record_value_shape(type, v.get());
            if (s && !old) s = Status::denied("an edit of no value");
            if (s) s = validator->check_edit(key, type, value_bytes(*old), value_bytes(*v));
            return count(s, "edit");
        };
        runner.registerType(vt);
    }
}

}  // namespace dhtalk
