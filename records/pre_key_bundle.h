#pragma once
// PreKeyBundle: the body of a user's "prekeys" record, what anyone needs to
// start an end-to-end session with the user's device (the Signal protocol's
// X3DH; docs/messaging.md):
//   [registration id, device id, identity key (bin), signed pre-key id,
//    signed pre-key (bin), its signature by the identity key (bin),
//    [[one-time pre-key id, one-time pre-key (bin)], ...]]
// Keys are Curve25519 public keys as the Signal protocol serializes them (33
// bytes, the first 0x05). The record's own signature binds the bundle to the
// user's certified key; the signed pre-key's signature is checked by the
// client that uses it. The decoder treats its input as hostile. Thread-safe.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace dhtalk {

inline constexpr size_t kSignalPublicKeyBytes = 33;
inline constexpr size_t kSignalSignatureBytes = 64;
inline constexpr size_t kMaxOneTimePreKeys = 100;

struct PreKeyBundle {
    uint32_t registration_id = 0;
    uint32_t device_id = 0;
    std::string identity_key;
    uint32_t signed_pre_key_id = 0;
    std::string signed_pre_key;
    std::string signed_pre_key_signature;
    std::vector<std::pair<uint32_t, std::string>> pre_keys;  // id, public key

    bool operator==(const PreKeyBundle&) const = default;
};

// kInvalidArgument naming the first field out of shape.
Status check_pre_key_bundle(const PreKeyBundle& b);
Result<std::string> encode_pre_key_bundle(const PreKeyBundle& b);
// kCorruption for anything but one well-formed bundle.
Result<PreKeyBundle> decode_pre_key_bundle(std::string_view bytes);

}  // namespace dhtalk
