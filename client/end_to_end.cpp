#include "client/end_to_end.h"

#include <algorithm>
#include <chrono>

#include <gnutls/crypto.h>
#include <key_helper.h>
#include <protocol.h>
#include <session_builder.h>
#include <session_cipher.h>
#include <signal_protocol.h>

#include "common/files.h"
#include "common/msgpack_io.h"
#include "crypto/signal_crypto.h"
#include "net/inbox_message.h"

namespace dhtalk::client {
namespace {

constexpr uint32_t kFirstSignedPreKeyId = 1;  // then one up at each rotation
constexpr int kRatchetMessage = CIPHERTEXT_SIGNAL_TYPE;
constexpr int kPreKeyMessage = CIPHERTEXT_PREKEY_TYPE;
// The ciphertext of a 64 KiB message, with the protocol's framing.
constexpr size_t kMaxCiphertextBytes = 64 * 1024 + 1024;

// Owns one reference to a libomemo-c object.
template <class T>
class Ref {
public:
    Ref() = default;
    explicit Ref(T* p) : p_(p) {}
    Ref(const Ref&) = delete;
    Ref& operator=(const Ref&) = delete;
    ~Ref() {
        if (p_) SIGNAL_UNREF(p_);
    }
    T** out() { return &p_; }
    T* get() const { return p_; }

private:
    T* p_ = nullptr;
};

// A buffer the library allocated for us.
class Buffer {
public:
    Buffer() = default;
    Buffer(const Buffer&) = delete;
    Buffer& operator=(const Buffer&) = delete;
    ~Buffer() {
        if (b_) signal_buffer_bzero_free(b_);
    }
    signal_buffer** out() { return &b_; }
    std::string bytes() const {
        return b_ ? std::string(reinterpret_cast<const char*>(signal_buffer_const_data(b_)), signal_buffer_len(b_))
                  : std::string();
    }

private:
    signal_buffer* b_ = nullptr;
};

Status failed(int rc, const std::string& what) {
    std::string m = what + ": " + crypto::signal_error_name(rc);
    switch (rc) {
    case SG_ERR_UNTRUSTED_IDENTITY: return Status::denied(m);
    case SG_ERR_INVALID_KEY:
    case SG_ERR_INVALID_KEY_ID:
    case SG_ERR_INVALID_MAC:
    case SG_ERR_INVALID_MESSAGE:
    case SG_ERR_INVALID_VERSION:
    case SG_ERR_LEGACY_MESSAGE:
    case SG_ERR_NO_SESSION:
    case SG_ERR_DUPLICATE_MESSAGE:
    case SG_ERR_INVALID_PROTO_BUF:
    case SG_ERR_VRF_SIG_VERIF_FAILED: return Status::corruption(m);
    default: return Status::internal(m);
    }
}

std::string serialize(const ec_public_key* key) {
    Buffer b;
    if (ec_public_key_serialize(b.out(), key) != 0) return {};
    return b.bytes();
}

const uint8_t* data_of(std::string_view s) { return reinterpret_cast<const uint8_t*>(s.data()); }

struct Envelope {
    int kind = 0;
    std::string ciphertext;
};

Result<Envelope> open_envelope(std::string_view bytes) {
    auto decoded = decode_guarded<Envelope>("message envelope", [&]() -> Result<Envelope> {
        const msgpack::unpack_limit limit(/*array*/ 3, /*map*/ 0, /*str*/ 0, /*bin*/ kMaxCiphertextBytes, /*ext*/ 0,
                                          /*depth*/ 1);
        auto h = unpack_whole(bytes.data(), bytes.size(), limit, "message envelope");
        Fields f(h.get(), 3, "message envelope");
        if (f.uint(UINT64_MAX) != kEnvelopeFormat) f.fail("format " + std::to_string(kEnvelopeFormat));
        Envelope e;
        e.kind = static_cast<int>(f.uint(255));
        if (e.kind != kRatchetMessage && e.kind != kPreKeyMessage) f.fail("a kind of message this client knows");
        e.ciphertext = f.bin(kMaxCiphertextBytes);
        return e;
    });
    if (!decoded) return Status::corruption(decoded.status().message());
    return decoded;
}

signal_protocol_address address_of(const std::string& user_id) {
    return signal_protocol_address{user_id.c_str(), user_id.size(), static_cast<int32_t>(kDeviceId)};
}

}  // namespace

EndToEnd::EndToEnd(std::filesystem::path dir) : store_(std::move(dir)) {}

EndToEnd::~EndToEnd() {
    if (store_context_) signal_protocol_store_context_destroy(store_context_);
}

Result<std::unique_ptr<EndToEnd>> EndToEnd::open(const std::filesystem::path& dir) {
    std::unique_ptr<EndToEnd> e(new EndToEnd(dir));
    auto context = crypto::SignalContext::create();
    if (!context) return context.status();
    e->context_ = std::move(context).value();
    if (signal_protocol_store_context_create(&e->store_context_, e->context_->get()) != 0)
        return Status::internal("cannot create the Signal protocol's store");
    DHTALK_TRY(e->store_.attach(e->store_context_));
    if (!e->store_.has_identity()) DHTALK_TRY(e->make_identity());
    DHTALK_TRY(e->store_.registration_id().status());
    return e;
}

Status EndToEnd::make_identity() {
    Ref<ratchet_identity_key_pair> pair;
    if (int rc = signal_protocol_key_helper_generate_identity_key_pair(pair.out(), context_->get()); rc != 0)
        return failed(rc, "cannot make an identity key");
    uint32_t registration_id = 0;
    if (int rc = signal_protocol_key_helper_generate_registration_id(&registration_id, 0, context_->get()); rc != 0)
        return failed(rc, "cannot make a registration id");
    Ref<session_signed_pre_key> signed_pre_key;
    const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch()).count();
    if (int rc = signal_protocol_key_helper_generate_signed_pre_key(signed_pre_key.out(), pair.get(), kFirstSignedPreKeyId,
                                                                    now_ms, context_->get());
        rc != 0)
        return failed(rc, "cannot make a signed pre-key");
    Buffer private_key;
    if (int rc = ec_private_key_serialize(private_key.out(), ratchet_identity_key_pair_get_private(pair.get())); rc != 0)
        return failed(rc, "cannot encode the identity key");
    // The signed pre-key first: the identity counts as made once it is saved.
    if (int rc = signal_protocol_signed_pre_key_store_key(store_context_, signed_pre_key.get()); rc != 0)
        return failed(rc, "cannot save the signed pre-key");
    return store_.save_identity(serialize(ratchet_identity_key_pair_get_public(pair.get())), private_key.bytes(),
                                registration_id);
}

Status EndToEnd::top_up_pre_keys() {
    store_.forget_old_used_pre_keys();
    const auto unused = store_.key_ids("pre-keys");
    if (unused.size() >= kOneTimePreKeys) return Status::ok();
    uint32_t highest = 0;
    for (const char* kind : {"pre-keys", "used-pre-keys"})
        for (uint32_t id : store_.key_ids(kind)) highest = std::max(highest, id);
    signal_protocol_key_helper_pre_key_list_node* head = nullptr;
    if (int rc = signal_protocol_key_helper_generate_pre_keys(&head, highest + 1, kOneTimePreKeys - unused.size(),
                                                              context_->get());
        rc != 0)
        return failed(rc, "cannot make one-time pre-keys");
    int rc = 0;
    for (auto* node = head; node && rc == 0; node = signal_protocol_key_helper_key_list_next(node))
        rc = signal_protocol_pre_key_store_key(store_context_, signal_protocol_key_helper_key_list_element(node));
    signal_protocol_key_helper_key_list_free(head);
    return rc == 0 ? Status::ok() : failed(rc, "cannot save one-time pre-keys");
}

bool EndToEnd::pre_keys_used() const { return store_.key_ids("pre-keys").size() < kOneTimePreKeys; }

bool EndToEnd::should_publish() const {
    std::error_code ec;
    const auto marker = store_.dir() / "bundle.published";
    const auto at = std::filesystem::last_write_time(marker, ec);
    return ec || at < std::filesystem::file_time_type::clock::now() - kRepublishAfter || pre_keys_used();
}

Status EndToEnd::mark_published() { return write_file_atomic(store_.dir() / "bundle.published", "", 0600); }

std::vector<uint32_t> EndToEnd::signed_pre_key_ids() const {
    auto ids = store_.key_ids("signed-pre-keys");
    std::sort(ids.begin(), ids.end());
    return ids;
}

Result<uint32_t> EndToEnd::rotate_signed_pre_key(int64_t now_ms) {
    const auto ids = signed_pre_key_ids();
    if (ids.empty()) return Status::corruption("this profile has no signed pre-key: its e2e folder is damaged");
    auto made_ms = [&](uint32_t id) -> Result<int64_t> {
        Ref<session_signed_pre_key> key;
        if (int rc = signal_protocol_signed_pre_key_load_key(store_context_, key.out(), id); rc != 0)
            return failed(rc, "cannot read signed pre-key " + std::to_string(id));
        return static_cast<int64_t>(session_signed_pre_key_get_timestamp(key.get()));
    };
    const uint32_t newest = ids.back();
    auto newest_ms = made_ms(newest);
    if (!newest_ms) return newest_ms.status();
    const int64_t lifetime_ms = std::chrono::duration_cast<std::chrono::milliseconds>(kSignedPreKeyLifetime).count();
    const int64_t kept_ms = std::chrono::duration_cast<std::chrono::milliseconds>(kOldSignedPreKeyKept).count();
    uint32_t current = newest;
    if (now_ms - *newest_ms >= lifetime_ms) {
        Ref<ratchet_identity_key_pair> identity;
        if (int rc = signal_protocol_identity_get_key_pair(store_context_, identity.out()); rc != 0)
            return failed(rc, "cannot read the identity key");
        Ref<session_signed_pre_key> fresh;
        current = newest + 1;
        if (int rc = signal_protocol_key_helper_generate_signed_pre_key(fresh.out(), identity.get(), current,
                                                                        static_cast<uint64_t>(now_ms), context_->get());
            rc != 0)
            return failed(rc, "cannot make a signed pre-key");
        if (int rc = signal_protocol_signed_pre_key_store_key(store_context_, fresh.get()); rc != 0)
            return failed(rc, "cannot save the signed pre-key");
    }
    // A key replaced by the next one at time T is still wanted until T plus
    // the keep: the next one's making time stands for T.
    for (size_t i = 0; i + 1 < ids.size(); ++i) {
        auto replaced_ms = made_ms(ids[i + 1]);
        if (!replaced_ms) return replaced_ms.status();
        if (now_ms - *replaced_ms >= kept_ms) signal_protocol_signed_pre_key_remove_key(store_context_, ids[i]);
    }
    return current;
}

Result<PreKeyBundle> EndToEnd::bundle(std::chrono::system_clock::time_point now) {
    DHTALK_TRY(top_up_pre_keys());
    auto signed_id = rotate_signed_pre_key(
        std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count());
    if (!signed_id) return signed_id.status();
    PreKeyBundle b;
    auto registration_id = store_.registration_id();
    if (!registration_id) return registration_id.status();
    b.registration_id = *registration_id;
    b.device_id = kDeviceId;
    auto keys = store_.identity_keys();
    if (!keys) return keys.status();
    b.identity_key = keys->first;
    Ref<session_signed_pre_key> signed_pre_key;
    if (int rc = signal_protocol_signed_pre_key_load_key(store_context_, signed_pre_key.out(), *signed_id); rc != 0)
        return failed(rc, "cannot read the signed pre-key");
    b.signed_pre_key_id = *signed_id;
    b.signed_pre_key = serialize(ec_key_pair_get_public(session_signed_pre_key_get_key_pair(signed_pre_key.get())));
    b.signed_pre_key_signature.assign(reinterpret_cast<const char*>(session_signed_pre_key_get_signature(signed_pre_key.get())),
                                      session_signed_pre_key_get_signature_len(signed_pre_key.get()));
    auto ids = store_.key_ids("pre-keys");
    std::sort(ids.begin(), ids.end());
    for (uint32_t id : ids) {
        if (b.pre_keys.size() == kOneTimePreKeys) break;
        Ref<session_pre_key> pre_key;
        if (int rc = signal_protocol_pre_key_load_key(store_context_, pre_key.out(), id); rc != 0)
            return failed(rc, "cannot read one-time pre-key " + std::to_string(id));
        b.pre_keys.emplace_back(id, serialize(ec_key_pair_get_public(session_pre_key_get_key_pair(pre_key.get()))));
    }
    DHTALK_TRY(check_pre_key_bundle(b));
    return b;
}

bool EndToEnd::has_session(const std::string& user_id) const {
    auto address = address_of(user_id);
    return signal_protocol_session_contains_session(store_context_, &address) == 1;
}

Status EndToEnd::start_session(const std::string& user_id, const PreKeyBundle& b) {
    DHTALK_TRY(check_pre_key_bundle(b));
    auto decode = [&](const std::string& bytes, Ref<ec_public_key>& key) {
        return curve_decode_point(key.out(), data_of(bytes), bytes.size(), context_->get());
    };
    Ref<ec_public_key> identity, signed_pre_key, pre_key;
    uint32_t pre_key_id = 0;
    if (decode(b.identity_key, identity) != 0 || decode(b.signed_pre_key, signed_pre_key) != 0)
        return Status::corruption("the pre-key bundle of " + user_id + " holds a key that is not a curve point");
    if (!b.pre_keys.empty()) {
        uint32_t pick = 0;
        gnutls_rnd(GNUTLS_RND_NONCE, &pick, sizeof pick);
        const auto& [id, key] = b.pre_keys[pick % b.pre_keys.size()];
        if (decode(key, pre_key) != 0)
            return Status::corruption("the pre-key bundle of " + user_id + " holds a key that is not a curve point");
        pre_key_id = id;
    }
    Ref<session_pre_key_bundle> bundle;
    if (int rc = session_pre_key_bundle_create(bundle.out(), b.registration_id, static_cast<int>(b.device_id),
                                               pre_key_id, pre_key.get(), b.signed_pre_key_id, signed_pre_key.get(),
                                               data_of(b.signed_pre_key_signature), b.signed_pre_key_signature.size(),
                                               identity.get());
        rc != 0)
        return failed(rc, "cannot read the pre-key bundle of " + user_id);
    auto address = address_of(user_id);
    session_builder* builder = nullptr;
    if (int rc = session_builder_create(&builder, store_context_, &address, context_->get()); rc != 0)
        return failed(rc, "cannot start a session");
    const int rc = session_builder_process_pre_key_bundle(builder, bundle.get());
    session_builder_free(builder);
    if (rc == SG_ERR_UNTRUSTED_IDENTITY)
        return Status::denied("the key of " + user_id + " is not the one this profile saw before: the user has a new key");
    if (rc == SG_ERR_INVALID_KEY)
        return Status::denied("the pre-key bundle of " + user_id + " is not signed by its identity key");
    if (rc != 0) return failed(rc, "cannot start a session with " + user_id);
    return Status::ok();
}

std::vector<std::string> EndToEnd::known_devices(const std::string& user_id) const {
    std::vector<std::string> out;
    for (const auto& name : store_.contact_names())
        if (address_user(name) == user_id) out.emplace_back(address_device(name));
    return out;
}

Status EndToEnd::accept_contact_key(const std::string& user_id, const std::string& key) {
    for (int32_t device : store_.session_devices(user_id)) DHTALK_TRY(store_.delete_session(user_id, device));
    return store_.save_contact_key(user_id, key);
}

Result<std::string> EndToEnd::encrypt(const std::string& user_id, std::string_view plaintext) {
    auto address = address_of(user_id);
    session_cipher* cipher = nullptr;
    if (int rc = session_cipher_create(&cipher, store_context_, &address, context_->get()); rc != 0)
        return failed(rc, "cannot encrypt");
    Ref<ciphertext_message> message;
    const int rc = session_cipher_encrypt(cipher, data_of(plaintext), plaintext.size(), message.out());
    session_cipher_free(cipher);
    if (rc != 0) return failed(rc, "cannot encrypt to " + user_id);
    const signal_buffer* serialized = ciphertext_message_get_serialized(message.get());
    msgpack::sbuffer buf;
    MsgpackPacker pk(buf);
    pk.pack_array(3);
    pk.pack(kEnvelopeFormat);
    pk.pack(ciphertext_message_get_type(message.get()));
    pack_bin(pk, std::string_view(reinterpret_cast<const char*>(signal_buffer_const_data(serialized)),
                                  signal_buffer_len(serialized)));
    return std::string(buf.data(), buf.size());
}

Result<std::optional<std::string>> EndToEnd::claimed_identity(std::string_view envelope) {
    auto e = open_envelope(envelope);
    if (!e) return e.status();
    if (e->kind != kPreKeyMessage) return std::optional<std::string>();
    Ref<pre_key_signal_message> message;
    if (int rc = pre_key_signal_message_deserialize(message.out(), data_of(e->ciphertext), e->ciphertext.size(),
                                                    context_->get());
        rc != 0)
        return failed(rc, "a malformed message");
    return std::optional<std::string>(serialize(pre_key_signal_message_get_identity_key(message.get())));
}

namespace {

// What the decryption callback needs: the caller's `keep`, and its failure.
struct KeepContext {
    const std::function<Status(const std::string&)>* keep;
    Status failure;
};

// Below the library's own codes: the callback's failure is ours.
constexpr int kKeepFailed = SG_ERR_MINIMUM - 1;

int keep_plaintext(session_cipher*, signal_buffer* plaintext, void* context) {
    auto& k = *static_cast<KeepContext*>(context);
    k.failure = (*k.keep)(std::string(reinterpret_cast<const char*>(signal_buffer_const_data(plaintext)),
                                      signal_buffer_len(plaintext)));
    return k.failure ? SG_SUCCESS : kKeepFailed;
}

}  // namespace

Status EndToEnd::decrypt(const std::string& user_id, std::string_view envelope,
                         const std::function<Status(const std::string&)>& keep) {
    auto e = open_envelope(envelope);
    if (!e) return e.status();
    auto address = address_of(user_id);
    session_cipher* cipher = nullptr;
    if (int rc = session_cipher_create(&cipher, store_context_, &address, context_->get()); rc != 0)
        return failed(rc, "cannot decrypt");
    session_cipher_set_decryption_callback(cipher, keep_plaintext);
    KeepContext context{&keep, Status::ok()};
    Buffer plaintext;
    int rc = 0;
    if (e->kind == kPreKeyMessage) {
        Ref<pre_key_signal_message> message;
        rc = pre_key_signal_message_deserialize(message.out(), data_of(e->ciphertext), e->ciphertext.size(),
                                                context_->get());
        if (rc == 0) rc = session_cipher_decrypt_pre_key_signal_message(cipher, message.get(), &context, plaintext.out());
    } else {
        Ref<signal_message> message;
        rc = signal_message_deserialize(message.out(), data_of(e->ciphertext), e->ciphertext.size(), context_->get());
        if (rc == 0) rc = session_cipher_decrypt_signal_message(cipher, message.get(), &context, plaintext.out());
    }
    session_cipher_free(cipher);
    if (rc == kKeepFailed) return context.failure;
    if (rc == SG_ERR_UNTRUSTED_IDENTITY)
        return Status::denied("a message from " + user_id + " under a key that is not the one this profile saw before");
    if (rc != 0) return failed(rc, "cannot decrypt a message from " + user_id);
    return Status::ok();
}

Result<std::string> EndToEnd::decrypt(const std::string& user_id, std::string_view envelope) {
    std::string out;
    DHTALK_TRY(decrypt(user_id, envelope, [&](const std::string& plaintext) {
        out = plaintext;
        return Status::ok();
    }));
    return out;
}

}  // namespace dhtalk::client
