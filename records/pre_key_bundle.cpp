#include "records/pre_key_bundle.h"

#include <set>

#include "common/msgpack_io.h"

namespace dhtalk {
namespace {

constexpr uint64_t kMaxRegistrationId = 0x7fffffff;
constexpr uint8_t kCurve25519KeyType = 0x05;

bool is_public_key(std::string_view key) {
    return key.size() == kSignalPublicKeyBytes && static_cast<uint8_t>(key[0]) == kCurve25519KeyType;
}

}  // namespace

Status check_pre_key_bundle(const PreKeyBundle& b) {
    if (b.registration_id == 0 || b.registration_id > kMaxRegistrationId)
        return Status::invalid("a pre-key bundle's registration id is out of range");
    if (b.device_id == 0 || b.device_id > kMaxRegistrationId)
        return Status::invalid("a pre-key bundle's device id is out of range");
    if (!is_public_key(b.identity_key)) return Status::invalid("a pre-key bundle's identity key is not a Curve25519 key");
    if (!is_public_key(b.signed_pre_key)) return Status::invalid("a pre-key bundle's signed pre-key is not a Curve25519 key");
    if (b.signed_pre_key_signature.size() != kSignalSignatureBytes)
        return Status::invalid("a pre-key bundle's signature is not " + std::to_string(kSignalSignatureBytes) + " bytes");
    if (b.pre_keys.size() > kMaxOneTimePreKeys)
        return Status::invalid("a pre-key bundle holds more than " + std::to_string(kMaxOneTimePreKeys) + " one-time pre-keys");
    std::set<uint32_t> ids;
    for (const auto& [id, key] : b.pre_keys) {
        if (!is_public_key(key)) return Status::invalid("a one-time pre-key is not a Curve25519 key");
        if (!ids.insert(id).second) return Status::invalid("one-time pre-key " + std::to_string(id) + " appears twice");
    }
    return Status::ok();
}

Result<std::string> encode_pre_key_bundle(const PreKeyBundle& b) {
    DHTALK_TRY(check_pre_key_bundle(b));
    msgpack::sbuffer buf;
    MsgpackPacker pk(buf);
    pk.pack_array(7);
    pk.pack(b.registration_id);
    pk.pack(b.device_id);
    pack_bin(pk, b.identity_key);
    pk.pack(b.signed_pre_key_id);
    pack_bin(pk, b.signed_pre_key);
    pack_bin(pk, b.signed_pre_key_signature);
    pk.pack_array(static_cast<uint32_t>(b.pre_keys.size()));
    for (const auto& [id, key] : b.pre_keys) {
        pk.pack_array(2);
        pk.pack(id);
        pack_bin(pk, key);
    }
    return std::string(buf.data(), buf.size());
}

Result<PreKeyBundle> decode_pre_key_bundle(std::string_view bytes) {
    auto decoded = decode_guarded<PreKeyBundle>("pre-key bundle", [&]() -> Result<PreKeyBundle> {
        const msgpack::unpack_limit limit(/*array*/ kMaxOneTimePreKeys, /*map*/ 0, /*str*/ 0,
                                          /*bin*/ kSignalSignatureBytes, /*ext*/ 0, /*depth*/ 3);
        auto h = unpack_whole(bytes.data(), bytes.size(), limit, "pre-key bundle");
        Fields f(h.get(), 7, "pre-key bundle");
        PreKeyBundle b;
        b.registration_id = static_cast<uint32_t>(f.uint(UINT32_MAX));
        b.device_id = static_cast<uint32_t>(f.uint(UINT32_MAX));
        b.identity_key = f.bin(kSignalPublicKeyBytes);
        b.signed_pre_key_id = static_cast<uint32_t>(f.uint(UINT32_MAX));
        b.signed_pre_key = f.bin(kSignalPublicKeyBytes);
        b.signed_pre_key_signature = f.bin(kSignalSignatureBytes);
        for (const auto& o : f.array(kMaxOneTimePreKeys)) {
            Fields item(o, 2, "one-time pre-key");
            const auto id = static_cast<uint32_t>(item.uint(UINT32_MAX));
            b.pre_keys.emplace_back(id, item.bin(kSignalPublicKeyBytes));
        }
        DHTALK_TRY(check_pre_key_bundle(b));
        return b;
    });
    if (!decoded) return Status::corruption(decoded.status().message());
    return decoded;
}

}  // namespace dhtalk
