#pragma once
// MemberDirectory: the fast keys of the network's current members, by node
// id, as of the latest adopted roster epoch. Records and logins are checked
// against it: a user certificate counts only while its issuer is listed here,
// so banning a node refuses its users and their records. Presence is checked
// against the same keys.
// It holds the raw keys only, not the members' certificates: every node holds
// every member, and a parsed certificate is about 19 KB of GnuTLS state.
// Thread-safe (OpenDHT's thread reads it in the store policies): readers get
// an immutable snapshot.

#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace dhtalk {

class MemberDirectory {
public:
    // node id hex -> raw Ed25519 public key (crypto/fast_key.h)
    using Members = std::map<std::string, std::string>;

    // Replaces the members.
    void set(Members members);
    // The member's fast key, or empty.
    std::string fast_key(const std::string& node_id) const;

private:
    std::shared_ptr<const Members> snapshot() const;

    mutable std::mutex mutex_;
    std::shared_ptr<const Members> members_ = std::make_shared<Members>();  // guarded by mutex_
};

}  // namespace dhtalk
