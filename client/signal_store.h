#pragma once
// SignalStore: the Signal protocol state a profile keeps, as files in
// PROFILE/e2e/ (each written atomically, owner-only), and the store callbacks
// libomemo-c reads and writes it through:
//   identity.public         the identity key pair, each half in the
//   identity.private        library's encoding
//   registration.id         this device's registration id, decimal (written
//                           last: the identity is whole once it exists)
//   signed-pre-keys/ID      signed pre-keys
//   pre-keys/ID             one-time pre-keys not used yet
//   used-pre-keys/ID        one-time pre-keys a sender used: kept until
//                           kUsedPreKeyLifetime, since two senders may pick
//                           the same key from one published bundle
//   sessions/PEER.DEVICE    session records (the ratchets)
//   contacts/PEER           the identity key first seen for a peer; a
//                           different one is untrusted (a key change)
// One thread at a time.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

struct signal_protocol_store_context;

namespace dhtalk::client {

// As long as a message may wait in an inbox (at most 30 days), and a day more.
inline constexpr std::chrono::hours kUsedPreKeyLifetime{24 * 31};

class SignalStore {
public:
    explicit SignalStore(std::filesystem::path dir) : dir_(std::move(dir)) {}

    const std::filesystem::path& dir() const { return dir_; }
    // Hands the library callbacks that read and write this store. The store
    // must outlive `context`.
    Status attach(signal_protocol_store_context* context);

    bool has_identity() const;
    // The identity key pair's halves, each in the library's encoding, and
    // the registration id.
    Status save_identity(const std::string& public_key, const std::string& private_key, uint32_t registration_id);
    Result<std::pair<std::string, std::string>> identity_keys() const;
    Result<uint32_t> registration_id() const;

    // Files of one kind ("pre-keys", "signed-pre-keys", "used-pre-keys").
    Result<std::string> load_key(const char* kind, uint32_t id) const;
    Status store_key(const char* kind, uint32_t id, const std::string& record);
    Status remove_key(const char* kind, uint32_t id);
    std::vector<uint32_t> key_ids(const char* kind) const;
    // Deletes used one-time pre-keys older than kUsedPreKeyLifetime.
    void forget_old_used_pre_keys();

    // The identity key saved for a contact, if any.
    std::optional<std::string> contact_key(const std::string& user_id) const;
    // The names of every contact with a saved key.
    std::vector<std::string> contact_names() const;
    Status save_contact_key(const std::string& user_id, const std::string& key);

    std::optional<std::string> session(const std::string& user_id, int32_t device) const;
    Status save_session(const std::string& user_id, int32_t device, const std::string& record);
    Status delete_session(const std::string& user_id, int32_t device);
    std::vector<int32_t> session_devices(const std::string& user_id) const;

private:
    std::filesystem::path dir_;
};

}  // namespace dhtalk::client
