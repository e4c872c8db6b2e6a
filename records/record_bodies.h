#pragma once
// The bodies inside records (record.h), each a msgpack array with bounded
// fields, and the media reference that unlocks media metadata.
//   vCard:   public; [name, status, avatar reference, encryption key (PEM), OpenPGP key (bin)]
//   privacy: [allow-only mode, blocked user ids, allowed user ids]; the record
//            carries it sealed under a key only the owner's own (Ed25519)
//            key makes, so storing nodes see ciphertext only
//   media:   [file id (SHA-256 of the encrypted file), size, type, holder node id,
//            expires_at_s]; the record carries it encrypted under a key derived
//            from the media reference
// Decoders treat their input as hostile. Thread-safe, no state.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "crypto/aead.h"

namespace dht::crypto {
class PrivateKey;
}

namespace dhtalk {

inline constexpr size_t kMaxDisplayNameBytes = 128;
inline constexpr size_t kMaxStatusTextBytes = 512;
inline constexpr size_t kMaxAvatarRefBytes = 512;
inline constexpr size_t kMaxEncryptionKeyBytes = 4 * 1024;
inline constexpr size_t kMaxPgpKeyBytes = 16 * 1024;
inline constexpr size_t kMaxPrivacyEntries = 500;
inline constexpr size_t kMaxMediaTypeBytes = 128;

struct VCard {
    std::string name;
    std::string status;
    std::string avatar;          // a media reference, or empty
    std::string encryption_key;  // the user's public key, PEM
    std::string pgp_key;         // an OpenPGP public key blob, or empty
};
std::string encode_vcard(const VCard& v);
Result<VCard> decode_vcard(std::string_view bytes);

struct PrivacyList {
    bool allow_only = false;            // true: only `allowed` users may see the user
    std::vector<std::string> blocked;   // user ids
    std::vector<std::string> allowed;   // user ids
    // false: the user's client sends no read receipts (delivery receipts
    // still go). Lists written before this field decode as true.
    bool read_receipts = true;

    // Whether the list lets `user` see this user's presence and reach them
    // with messages: not blocked, and allowed in allow-only mode.
    bool admits(const std::string& user) const;
};
// kInvalidArgument when a list is too long or holds a malformed user id.
Result<std::string> encode_privacy(const PrivacyList& p);
Result<PrivacyList> decode_privacy(std::string_view bytes);
// The privacy record's body: the list encoded, then sealed (AES-256-GCM)
// under crypto::derive_own_secret(user_key, "dhtalk privacy list").
Result<std::string> seal_privacy(const PrivacyList& p, const dht::crypto::PrivateKey& user_key);
// kCorruption if `body` was not sealed with `user_key`.
Result<PrivacyList> open_privacy(std::string_view body, const dht::crypto::PrivateKey& user_key);

struct MediaMetadata {
    std::string file_id;  // 32 bytes
    uint64_t size = 0;
    std::string type;     // a media type such as image/png
    std::string holder;   // node id (hex) of the node holding the file
    int64_t expires_at_s = 0;
};
std::string encode_media(const MediaMetadata& m);
Result<MediaMetadata> decode_media(std::string_view bytes);

// What a holder needs to find, read and decrypt a media file:
// "dhtalk-media:1:<user id>:<file id hex>:<content key hex>".
struct MediaReference {
    std::string user_id;
    std::string file_id;           // 32 bytes
    crypto::AeadKey content_key{};  // encrypts the file
    std::string to_string() const;
    // The record locator and the metadata key: both derived from the content
    // key, so that storing nodes learn neither the file id nor the key.
    std::string locator() const;
    crypto::AeadKey metadata_key() const;
};
Result<MediaReference> parse_media_reference(std::string_view text);

}  // namespace dhtalk
