#include "records/record.h"

#include "common/msgpack_io.h"
#include "crypto/signing.h"

namespace dhtalk {
namespace {

constexpr uint16_t kFirstValueType = 0x4d01;  // far from OpenDHT's own types (0..~16)

msgpack::unpack_limit record_limit() {
    return msgpack::unpack_limit(/*array*/ 8, /*map*/ 0, /*str*/ crypto::kMaxCertificateBytes,
                                 /*bin*/ kMaxRecordBytes, /*ext*/ 0, /*depth*/ 2);
}

}  // namespace

const char* record_type_name(RecordType type) {
    switch (type) {
    case RecordType::kVCard: return "vcard";
    case RecordType::kPrivacy: return "privacy";
    case RecordType::kMedia: return "media";
    case RecordType::kPreKeys: return "prekeys";
    case RecordType::kDevices: return "devices";
    }
    return "unknown";
}

uint16_t record_value_type(RecordType type) { return kFirstValueType + static_cast<uint16_t>(type) - 1; }

dht::InfoHash record_key(RecordType type, std::string_view user_id, std::string_view locator) {
    std::string name = "dhtalk/";
    name += record_type_name(type);
    name += '/';
    name += user_id;
    name += '/';
    name += crypto::to_hex(locator);
    return dht::InfoHash::get(name);
}

Result<std::string> seal_record(const Record& r, const dht::crypto::PrivateKey& key) {
    msgpack::sbuffer signed_buf;
    MsgpackPacker pk(signed_buf);
    pk.pack_array(7);
    pk.pack(static_cast<uint8_t>(r.type));
    pack_str(pk, r.user_id);
    pack_bin(pk, r.locator);
    pk.pack(r.sequence);
    pk.pack(r.expires_at_s);
    pack_bin(pk, r.body);
    pack_str(pk, r.certificate);
    const std::string_view signed_bytes(signed_buf.data(), signed_buf.size());
    auto signature = crypto::sign(key, signed_bytes);
    if (!signature) return signature.status();

    msgpack::sbuffer buf;
    MsgpackPacker out(buf);
    out.pack_array(3);
    out.pack(kRecordSchemaVersion);
    pack_bin(out, signed_bytes);
    pack_bin(out, *signature);
    if (buf.size() > kMaxRecordBytes)
        return Status::invalid("the record is " + std::to_string(buf.size()) + " bytes; at most " +
                               std::to_string(kMaxRecordBytes) + " fit in the DHT");
    return std::string(buf.data(), buf.size());
}

Result<OpenedRecord> open_record(std::string_view envelope) {
    if (envelope.size() > kMaxRecordBytes)
        return Status::corruption("a record of " + std::to_string(envelope.size()) + " bytes exceeds the bound");
    OpenedRecord opened;
    std::string signed_bytes, signature;
    try {
        auto outer = unpack_whole(envelope.data(), envelope.size(), record_limit(), "record envelope");
        const auto& o = outer.get();
        if (o.type != msgpack::type::ARRAY || o.via.array.size != 3 || o.via.array.ptr[0].type != msgpack::type::POSITIVE_INTEGER)
            return Status::corruption("a record is not [version, signed, signature]");
        const uint64_t version = o.via.array.ptr[0].via.u64;
        if (version == 1)
            return Status::corruption("a record of an older dhtalk (schema 1, an RSA user key): its user must register again");
        if (version != kRecordSchemaVersion)
            return Status::corruption("a record has unknown schema version " + std::to_string(version));
        Fields env(o, 3, "record");
        env.next();
        signed_bytes = env.bin(kMaxRecordBytes);
        signature = env.bin(1024);

        auto inner = unpack_whole(signed_bytes.data(), signed_bytes.size(), record_limit(), "signed record");
        Fields f(inner.get(), 7, "record");
        Record& r = opened.record;
        const uint64_t type = f.uint(255);
        if (type < 1 || type > static_cast<uint64_t>(RecordType::kDevices)) return Status::corruption("a record has unknown type " + std::to_string(type));
        r.type = static_cast<RecordType>(type);
        r.user_id = f.str(64);
        r.locator = f.bin(kRecordLocatorBytes);
        r.sequence = f.uint(UINT64_MAX);
        r.expires_at_s = f.sint();
        r.body = f.bin(kMaxRecordBodyBytes);
        r.certificate = f.str(crypto::kMaxCertificateBytes);
        const bool located = r.type == RecordType::kMedia || r.type == RecordType::kPreKeys;
        if (r.locator.size() != (located ? kRecordLocatorBytes : 0))
            return Status::corruption("a record's locator does not fit its type");
    } catch (const DecodeError& e) {
        return Status::corruption(e.what);
    } catch (const std::exception& e) {
        return Status::corruption(std::string("a record is not valid msgpack: ") + e.what());
    }
    auto cert = crypto::parse_certificate(opened.record.certificate);
    if (!cert) return Status::corruption("a record carries no valid certificate: " + cert.status().message());
    opened.certificate = std::move(cert).value();
    auto info = crypto::inspect_user_certificate(*opened.certificate);
    if (!info) return Status::corruption("a record's certificate is not a user certificate: " + info.status().message());
    opened.certificate_info = std::move(info).value();
    if (opened.certificate_info.user_id != opened.record.user_id)
        return Status::denied("a record for user " + opened.record.user_id + " is signed by user " +
                              opened.certificate_info.user_id);
    if (!crypto::verify(*opened.certificate, signed_bytes, signature))
        return Status::denied("a record's signature does not match its certificate");
    return opened;
}

}  // namespace dhtalk
