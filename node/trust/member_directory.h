#pragma once
// MemberDirectory: the certificates and fast keys of the network's current
// members, by node id, as of the latest adopted roster epoch. Records and
// logins are checked against it: a user certificate counts only while its
// issuer is listed here, so banning a node refuses its users and their
// records. Presence is checked against the fast keys.
// Thread-safe (OpenDHT's thread reads it in the store policies): readers get
// an immutable snapshot.

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <opendht/crypto.h>

namespace dhtalk {

class MemberDirectory {
public:
    struct Keys {
        std::shared_ptr<const dht::crypto::Certificate> certificate;
        std::string fast_key;  // raw Ed25519 public key (crypto/fast_key.h)
    };
    using Members = std::map<std::string, Keys>;

    // Replaces the members (node id hex -> their keys).
    void set(Members members);
    // The member's certificate, or null.
    std::shared_ptr<const dht::crypto::Certificate> find(const std::string& node_id) const;
    // The member's fast key, or empty.
    std::string fast_key(const std::string& node_id) const;

private:
    std::shared_ptr<const Members> snapshot() const;

    mutable std::mutex mutex_;
    std::shared_ptr<const Members> members_ = std::make_shared<Members>();  // guarded by mutex_
};

}  // namespace dhtalk
