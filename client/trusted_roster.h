#pragma once
// TrustedRoster: a client's verified view of its network's roster. It is
// pinned on first use from the whole chain, verified back to its genesis
// (roster_rules.h), and afterwards only extended by epochs that follow it
// under the network's rules, so a node, or a man in the middle, can show
// the client no roster the members did not sign. Against it the client
// checks that the node it talks to is a current member (its TLS certificate
// is for a fast key, valid now and signed by that member's certificate) and that
// every user certificate was issued by a current member. Plain value; one
// thread at a time.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <opendht/crypto.h>

#include "common/clock.h"
#include "common/status.h"
#include "crypto/user_certificate.h"
#include "roster/roster_documents.h"

namespace dhtalk::client {

class TrustedRoster {
public:
    // The chain from its genesis; with `network_id`, it must be that network's.
    static Result<TrustedRoster> from_chain(const std::vector<RosterEpoch>& chain, std::optional<uint32_t> network_id);
    // A roster this client verified before (its latest epoch, encoded); with
    // a non-zero `network_id`, it must be that network's.
    static Result<TrustedRoster> resume(std::string_view encoded_epoch, uint32_t network_id);

    // Moves on to `next`, which must follow the current epoch.
    Status extend(const RosterEpoch& next);

    const RosterEpoch& current() const { return current_; }
    uint32_t network_id() const { return network_id_; }
    // The node id of the member whose certificate signed `tls_certificate`
    // (a certificate for a fast key, naming that member as its issuer and
    // valid at `now`); kPermissionDenied if there is none.
    Result<std::string> member_for(const dht::crypto::Certificate& tls_certificate, WallTime now) const;
    // A user certificate issued for this network by a current member, valid now.
    Status check_user(const dht::crypto::Certificate& cert, const crypto::UserCertificateInfo& info, WallTime now) const;

private:
    TrustedRoster(RosterEpoch current, uint32_t network_id);
    Status load_members();

    RosterEpoch current_;
    uint32_t network_id_ = 0;
    struct MemberKeys {
        std::shared_ptr<dht::crypto::Certificate> certificate;  // signs the node's TLS certificates
        std::string fast_key;                                   // signs the user certificates it issues
    };
    std::map<std::string, MemberKeys> members_;  // by node id
};

}  // namespace dhtalk::client
