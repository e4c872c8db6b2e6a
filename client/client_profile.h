#pragma once
// Profile: what a client keeps between runs, in one private directory
// (default ~/.config/dhtalk, or --profile DIR):
//   profile.json  user id, phone number, network id, the nodes last used,
//                 the last record sequence number, when the privacy list was set
//   user.key      the user's private key (owner-only)
//   user.crt      the user certificate a node issued
//   roster.epoch  the latest roster epoch this profile verified (pinned on
//                 first use back to the genesis; see trusted_roster.h)
//   privacy.list  the user's privacy list (record_bodies.h's encoding): the
//                 copy every edit starts from, so a list the network failed
//                 to return is never overwritten by an empty one
// Files are written atomically; a damaged file is refused with its path.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <opendht/crypto.h>

#include "common/status.h"
#include "records/record_bodies.h"

namespace dhtalk::client {

struct Profile {
    std::filesystem::path dir;
    std::string phone;    // E.164: being registered, or registered
    std::string user_id;  // set once verified
    uint32_t network_id = 0;
    std::vector<std::string> nodes;  // HOST:PORT, the node that verified first
    uint64_t last_sequence = 0;
    std::shared_ptr<dht::crypto::PrivateKey> key;
    std::string certificate;  // PEM
    // The privacy list as this profile last set it; none in a profile that
    // has never held one (made before lists were kept here).
    std::optional<PrivacyList> privacy;
    // When the user set that list, on this device or another of theirs
    // (Unix ms): an older one from another device does not replace it.
    int64_t privacy_ms = 0;
    std::string roster;  // encoded roster epoch; empty before the first connection

    bool registered() const { return key && !certificate.empty() && !user_id.empty(); }

    // The profile in `dir`; an empty one if the directory has none yet.
    static Result<Profile> load(const std::filesystem::path& dir);
    // The key and certificate (after verification), privacy.list and
    // profile.json; not the roster, which is saved when it changes.
    Status save() const;
    // profile.json alone (the sequence, the nodes), when only that changed.
    Status save_state() const;
    // privacy.list alone.
    Status save_privacy() const;
    // roster.epoch alone.
    Status save_roster() const;
};

// $XDG_CONFIG_HOME/dhtalk, else $HOME/.config/dhtalk.
std::filesystem::path default_profile_dir();

}  // namespace dhtalk::client
