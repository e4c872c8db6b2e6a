#include "records/record_bodies.h"

#include <algorithm>

#include "common/msgpack_io.h"
#include "crypto/fast_key.h"
#include "crypto/signing.h"

namespace dhtalk {
namespace {

constexpr size_t kUserIdBytes = 40;

msgpack::unpack_limit body_limit() {
    return msgpack::unpack_limit(/*array*/ kMaxPrivacyEntries, /*map*/ 0, /*str*/ kMaxEncryptionKeyBytes,
                                 /*bin*/ kMaxPgpKeyBytes, /*ext*/ 0, /*depth*/ 3);
}

template <class Decode>
auto decode_with(std::string_view bytes, const char* what, Decode decode) -> decltype(decode(msgpack::object())) {
    try {
        auto h = unpack_whole(bytes.data(), bytes.size(), body_limit(), "record body");
        return decode(h.get());
    } catch (const DecodeError& e) {
        return Status::corruption(e.what);
    } catch (const std::exception& e) {
        return Status::corruption(std::string(what) + " is not valid msgpack: " + e.what());
    }
}

std::vector<std::string> read_ids(Fields& f) {
    auto ids = f.str_list(kMaxPrivacyEntries, kUserIdBytes);
    for (const auto& id : ids)
        if (!crypto::is_lower_hex(id, kUserIdBytes)) f.fail("a list of user ids");
    return ids;
}

}  // namespace

std::string encode_vcard(const VCard& v) {
    msgpack::sbuffer buf;
    MsgpackPacker pk(buf);
    pk.pack_array(5);
    pack_str(pk, v.name);
    pack_str(pk, v.status);
    pack_str(pk, v.avatar);
    pack_str(pk, v.encryption_key);
    pack_bin(pk, v.pgp_key);
    return {buf.data(), buf.size()};
}

Result<VCard> decode_vcard(std::string_view bytes) {
    return decode_with(bytes, "a vCard", [](const msgpack::object& o) -> Result<VCard> {
        Fields f(o, 5, "vCard");
        VCard v;
        v.name = f.str(kMaxDisplayNameBytes);
        v.status = f.str(kMaxStatusTextBytes);
        v.avatar = f.str(kMaxAvatarRefBytes);
        v.encryption_key = f.str(kMaxEncryptionKeyBytes);
        v.pgp_key = f.bin(kMaxPgpKeyBytes);
        return v;
    });
}

bool PrivacyList::admits(const std::string& user) const {
    if (std::find(blocked.begin(), blocked.end(), user) != blocked.end()) return false;
    return !allow_only || std::find(allowed.begin(), allowed.end(), user) != allowed.end();
}

Result<std::string> encode_privacy(const PrivacyList& p) {
    for (const auto* list : {&p.blocked, &p.allowed}) {
        if (list->size() > kMaxPrivacyEntries)
            return Status::invalid("a privacy list holds at most " + std::to_string(kMaxPrivacyEntries) + " users");
        for (const auto& id : *list)
            if (!crypto::is_lower_hex(id, kUserIdBytes)) return Status::invalid("'" + id + "' is not a user id");
    }
    msgpack::sbuffer buf;
    MsgpackPacker pk(buf);
    pk.pack_array(4);
    pk.pack(p.allow_only);
    pack_str_list(pk, p.blocked);
    pack_str_list(pk, p.allowed);
    pk.pack(p.read_receipts);
    return std::string(buf.data(), buf.size());
}

Result<PrivacyList> decode_privacy(std::string_view bytes) {
    return decode_with(bytes, "a privacy list", [](const msgpack::object& o) -> Result<PrivacyList> {
        // Three fields before read receipts could be turned off.
        const bool has_receipts = o.type == msgpack::type::ARRAY && o.via.array.size == 4;
        Fields f(o, has_receipts ? 4 : 3, "privacy list");
        PrivacyList p;
        p.allow_only = f.boolean();
        p.blocked = read_ids(f);
        p.allowed = read_ids(f);
        if (has_receipts) p.read_receipts = f.boolean();
        return p;
    });
}

std::string encode_media(const MediaMetadata& m) {
    msgpack::sbuffer buf;
    MsgpackPacker pk(buf);
    pk.pack_array(5);
    pack_bin(pk, m.file_id);
    pk.pack(m.size);
    pack_str(pk, m.type);
    pack_str(pk, m.holder);
    pk.pack(m.expires_at_s);
    return {buf.data(), buf.size()};
}

Result<MediaMetadata> decode_media(std::string_view bytes) {
    return decode_with(bytes, "media metadata", [](const msgpack::object& o) -> Result<MediaMetadata> {
        Fields f(o, 5, "media metadata");
        MediaMetadata m;
        m.file_id = f.bin(32);
        if (m.file_id.size() != 32) f.fail("a 32-byte file id");
        m.size = f.uint(UINT64_MAX);
        m.type = f.str(kMaxMediaTypeBytes);
        m.holder = f.str(40);
        m.expires_at_s = f.sint();
        return m;
    });
}

std::string MediaReference::to_string() const {
    return "dhtalk-media:1:" + user_id + ":" + crypto::to_hex(file_id) + ":" +
           crypto::to_hex({reinterpret_cast<const char*>(content_key.data()), content_key.size()});
}

std::string MediaReference::locator() const {
    return crypto::sha256("dhtalk media locator\n" +
                          std::string(reinterpret_cast<const char*>(content_key.data()), content_key.size()) + file_id);
}

crypto::AeadKey MediaReference::metadata_key() const {
    const std::string digest = crypto::sha256(
        "dhtalk media metadata\n" + std::string(reinterpret_cast<const char*>(content_key.data()), content_key.size()));
    crypto::AeadKey key;
    std::copy(digest.begin(), digest.end(), key.begin());
    return key;
}

Result<MediaReference> parse_media_reference(std::string_view text) {
    constexpr std::string_view kPrefix = "dhtalk-media:1:";
    const auto bad = Status::invalid("'" + std::string(text.substr(0, 200)) +
                                     "' is not a media reference (dhtalk-media:1:USER:FILE:KEY)");
    if (text.size() != kPrefix.size() + 40 + 1 + 64 + 1 + 64 || text.substr(0, kPrefix.size()) != kPrefix) return bad;
    text.remove_prefix(kPrefix.size());
    MediaReference ref;
    ref.user_id = std::string(text.substr(0, 40));
    if (!crypto::is_lower_hex(ref.user_id, kUserIdBytes) || text[40] != ':' || text[105] != ':') return bad;
    auto file = crypto::from_hex(text.substr(41, 64));
    auto key = crypto::from_hex(text.substr(106, 64));
    if (!file || !key) return bad;
    ref.file_id = std::move(file).value();
    std::copy(key->begin(), key->end(), ref.content_key.begin());
    return ref;
}

namespace {
constexpr const char* kPrivacySealPurpose = "dhtalk privacy list";
}  // namespace

Result<std::string> seal_privacy(const PrivacyList& p, const dht::crypto::PrivateKey& user_key) {
    auto plain = encode_privacy(p);
    if (!plain) return plain.status();
    auto secret = crypto::derive_own_secret(user_key, kPrivacySealPurpose);
    if (!secret) return secret.status();
    return crypto::encrypt_blob(*secret, *plain);
}

Result<PrivacyList> open_privacy(std::string_view body, const dht::crypto::PrivateKey& user_key) {
    auto secret = crypto::derive_own_secret(user_key, kPrivacySealPurpose);
    if (!secret) return secret.status();
    auto plain = crypto::decrypt_blob(*secret, body);
    if (!plain) return Status::corruption("the privacy list cannot be opened with this key");
    return decode_privacy(*plain);
}

}  // namespace dhtalk
