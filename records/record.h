#pragma once
// Records: what users keep in the DHT (vCard, privacy list, media metadata,
// the pre-key bundle of each device that starts end-to-end sessions, the
// list of the user's devices),
// each as our own signed envelope inside an OpenDHT value (OpenDHT 2.4.12's
// signed values skip custom store policies, so we sign ourselves).
//
//   envelope = msgpack [schema version, signed (bin), signature (bin)]
//   signed   = msgpack [type, user id, locator (bin), sequence,
//                       expires_at_s, body (bin), user certificate (PEM)]
//
// The signature is the user's key over the `signed` bytes. The DHT key is
// derived from (type, user id, locator), never chosen by the writer. The
// locator is empty except for media, where it is derived from the media
// reference, and for pre-key bundles, one per device (device_list.h). Bodies are defined in record_bodies.h. Decoding treats the bytes
// as hostile: sizes are bounded before anything is allocated. Thread-safe.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <opendht/crypto.h>
#include <opendht/infohash.h>

#include "common/status.h"
#include "crypto/user_certificate.h"

namespace dhtalk {

enum class RecordType : uint8_t { kVCard = 1, kPrivacy = 2, kMedia = 3, kPreKeys = 4, kDevices = 5 };
inline constexpr RecordType kAllRecordTypes[] = {RecordType::kVCard, RecordType::kPrivacy, RecordType::kMedia,
                                                RecordType::kPreKeys, RecordType::kDevices};

// 2: users' keys are Ed25519 (signatures of 64 bytes). Schema 1 (RSA user
// keys) is refused: its users register again.
inline constexpr uint32_t kRecordSchemaVersion = 2;
// Under OpenDHT's 64 KiB value limit, with room for its own framing.
inline constexpr size_t kMaxRecordBytes = 60 * 1024;
inline constexpr size_t kMaxRecordBodyBytes = 40 * 1024;
inline constexpr size_t kRecordLocatorBytes = 32;
inline constexpr std::chrono::seconds kMaxRecordLifetime{std::chrono::hours(24 * 30)};
// Clock skew allowed between writer and storing node.
inline constexpr std::chrono::seconds kRecordClockSkew{std::chrono::minutes(5)};
// Each key holds one value per record type; edits replace it.
inline constexpr uint64_t kRecordValueId = 1;

const char* record_type_name(RecordType type);
// The OpenDHT value type that carries records of `type`.
uint16_t record_value_type(RecordType type);

// The DHT key of a record: SHA-1 of "dhtalk/<type>/<user id>/<hex locator>".
dht::InfoHash record_key(RecordType type, std::string_view user_id, std::string_view locator = {});

struct Record {
    RecordType type = RecordType::kVCard;
    std::string user_id;
    std::string locator;  // kRecordLocatorBytes for media and pre-keys, empty otherwise
    uint64_t sequence = 0;  // the writer's clock in ms since 1970, or one above its last sequence
    int64_t expires_at_s = 0;
    std::string body;
    std::string certificate;  // the user's certificate, PEM
};

// The envelope bytes of `record`, signed with the user's `key`.
Result<std::string> seal_record(const Record& record, const dht::crypto::PrivateKey& key);

struct OpenedRecord {
    Record record;
    std::shared_ptr<dht::crypto::Certificate> certificate;
    crypto::UserCertificateInfo certificate_info;
};

// Decodes an envelope and checks what it can check alone: version, sizes,
// that the certificate names the record's user, and that its key signed the
// record. Membership of the issuer, time and the DHT key are the
// RecordValidator's (record_validator.h). kCorruption or kPermissionDenied.
Result<OpenedRecord> open_record(std::string_view envelope);

}  // namespace dhtalk
