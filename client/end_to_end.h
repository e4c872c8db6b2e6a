#pragma once
// EndToEnd: a profile's end-to-end encryption with other users, through the
// Signal protocol (libomemo-c): X3DH starts a session from the other user's
// published pre-key bundle, then the Double Ratchet gives every message its
// own key. Its state lives in PROFILE/e2e/ (signal_store.h). What it returns
// from encrypt() is all a node ever carries of a message:
//   envelope = msgpack [format 1, kind (2 ratchet message | 3 pre-key message), ciphertext (bin)]
// A peer is one device of a user, named by its inbox address (USER-DEVICE,
// net/inbox_message.h); each has its own identity key and sessions. One
// thread at a time.

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "client/signal_store.h"
#include "common/status.h"
#include "records/pre_key_bundle.h"

struct signal_protocol_store_context;

namespace dhtalk::crypto {
class SignalContext;
}

namespace dhtalk::client {

inline constexpr uint32_t kDeviceId = 1;
// One-time pre-keys a published bundle offers.
inline constexpr size_t kOneTimePreKeys = 50;
inline constexpr uint64_t kEnvelopeFormat = 1;
// Records live 30 days; a client republishes its bundle well before.
inline constexpr std::chrono::hours kRepublishAfter{24 * 7};
// A signed pre-key is replaced when a bundle is made after this; a replaced
// one still opens sessions started from an older bundle for as long as a
// used one-time pre-key is kept (a message waits at most 30 days).
inline constexpr std::chrono::hours kSignedPreKeyLifetime{24 * 7};
inline constexpr std::chrono::hours kOldSignedPreKeyKept{24 * 31};

class EndToEnd {
public:
    // Opens the state in `dir`, making the identity key, registration id and
    // signed pre-key on first use.
    static Result<std::unique_ptr<EndToEnd>> open(const std::filesystem::path& dir);
    EndToEnd(const EndToEnd&) = delete;
    EndToEnd& operator=(const EndToEnd&) = delete;
    ~EndToEnd();

    // The bundle to publish, with kOneTimePreKeys unused one-time pre-keys
    // (new ones replace those senders used) and the newest signed pre-key,
    // made anew when the last is older than kSignedPreKeyLifetime at `now`.
    Result<PreKeyBundle> bundle(std::chrono::system_clock::time_point now = std::chrono::system_clock::now());
    // The signed pre-keys kept, oldest first (tests).
    std::vector<uint32_t> signed_pre_key_ids() const;
    // Whether a sender has used one of the published one-time pre-keys since
    // the last bundle(): then a fresh bundle should be published.
    bool pre_keys_used() const;
    // Whether the bundle should be published now: never published, a pre-key
    // used, or the last one older than kRepublishAfter (records expire).
    bool should_publish() const;
    Status mark_published();

    bool has_session(const std::string& user_id) const;
    // Starts a session with `user_id` from their bundle, with one of its
    // one-time pre-keys picked at random. kPermissionDenied if the bundle's
    // identity key is not the one this profile saw before for the user, or
    // if the signed pre-key's signature does not check.
    Status start_session(const std::string& user_id, const PreKeyBundle& bundle);
    // An envelope for `user_id`, who must have a session.
    Result<std::string> encrypt(const std::string& user_id, std::string_view plaintext);
    // For an envelope that starts a session (a pre-key message): the
    // sender's identity key as it claims it, to be checked against their
    // bundle. None for other envelopes; kCorruption for a malformed one.
    Result<std::optional<std::string>> claimed_identity(std::string_view envelope);
    // Opens an envelope from `user_id` and hands its plaintext to `keep`
    // before the session's new state is saved: if `keep` fails, the state is
    // not saved, and the same envelope opens again later. (Saved first, a
    // crash before the plaintext is kept would lose the message: the ratchet
    // refuses a message key twice.) kCorruption for a malformed or forged
    // envelope, kPermissionDenied for an untrusted key, else keep's failure.
    Status decrypt(const std::string& user_id, std::string_view envelope,
                   const std::function<Status(const std::string& plaintext)>& keep);
    // The plaintext alone (tests).
    Result<std::string> decrypt(const std::string& user_id, std::string_view envelope);

    // The identity key saved for a contact (first seen), if any.
    std::optional<std::string> contact_key(const std::string& user_id) const { return store_.contact_key(user_id); }
    // The devices of `user_id` whose identity key this profile saved.
    std::vector<std::string> known_devices(const std::string& user_id) const;
    // Accepts `key` as the contact's identity key from now on (the user saw
    // the change): the sessions under the old key end, and the next message
    // either way starts a new one.
    Status accept_contact_key(const std::string& user_id, const std::string& key);

private:
    explicit EndToEnd(std::filesystem::path dir);
    Status make_identity();
    Status top_up_pre_keys();
    // Makes a new signed pre-key when the newest is past its lifetime, and
    // drops those replaced longer than kOldSignedPreKeyKept ago; the id of
    // the one to publish.
    Result<uint32_t> rotate_signed_pre_key(int64_t now_ms);

    SignalStore store_;
    std::unique_ptr<crypto::SignalContext> context_;
    signal_protocol_store_context* store_context_ = nullptr;
};

}  // namespace dhtalk::client
