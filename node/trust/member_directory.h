#pragma once
// MemberDirectory: the certificates of the network's current members, by
// node id, as of the latest adopted roster epoch. Records and logins are
// checked against it: a user certificate counts only while its issuer is
// listed here, so banning a node refuses its users and their records.
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
    using Certificates = std::map<std::string, std::shared_ptr<const dht::crypto::Certificate>>;

    // Replaces the members (node id hex -> certificate).
    void set(Certificates members);
    // The member's certificate, or null.
    std::shared_ptr<const dht::crypto::Certificate> find(const std::string& node_id) const;

private:
    mutable std::mutex mutex_;
    std::shared_ptr<const Certificates> members_ = std::make_shared<Certificates>();  // guarded by mutex_
};

}  // namespace dhtalk
