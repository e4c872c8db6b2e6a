#pragma once
// AuditService: the issuance audit of `dhtalk admin audit` (docs/trust.md).
// Every member keeps a ledger of the issuance log entries it stored for the
// network (dht/issuance_ledger.h); each entry is stored by several members,
// and no single one holds them all. gather() asks every member for its
// ledger (POST /v1/audit, audit_messages.h), unions the answers, and counts
// per issuing member and day the certificates issued and the distinct users
// they were for. A member cannot hide a certificate it issued by leaving it
// out of its own ledger: clients accept a contact's key only if it is in the
// contact's log, whose other storing members count it.
//
// on_audit_request() runs on the peer service's threads; gather() blocks
// its caller (the admin interface's thread) for one exchange per member.
// Thread-safe.

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "crypto/node_identity.h"
#include "dht/issuance_ledger.h"
#include "net/peer_net.h"
#include "node/front/audit_messages.h"
#include "node/front/inbox_service.h"
#include "node/trust/peer_service.h"

namespace dhtalk {

struct AuditCount {
    uint32_t day = 0;  // days since 1970
    std::string issuer;
    size_t certificates = 0;
    size_t users = 0;       // distinct
    bool at_least = false;  // some member's ledger reached its cap for this day
};

struct AuditReport {
    uint32_t first_day = 0;
    std::vector<AuditCount> counts;           // by issuer, then day
    size_t members_asked = 0;                 // this node included
    std::vector<std::string> unanswered;      // "NODE_ID: why"
    bool truncated = false;                   // some member had more than one answer holds
};

class AuditService final : public AuditHandler {
public:
    // `identity`, `ledger`, `clock` and `net` must outlive it.
    AuditService(uint32_t network_id, const crypto::NodeIdentity& identity, IssuanceLedger& ledger,
                 const Clock& clock, PeerNet& net, std::chrono::seconds max_skew = std::chrono::seconds(300));

    // The current members (this node among them), as the inboxes see them.
    void attach_members(std::function<std::vector<InboxPeer>()> members) { members_ = std::move(members); }

    // The last `days` days (today included) over every member's ledger.
    AuditReport gather(uint32_t days);

    // AuditHandler: a member's request; the signed answer, or why not.
    Result<std::string> on_audit_request(std::string_view request) override;

private:
    Result<AuditAnswer> ask(const InboxPeer& peer, uint32_t first_day);

    uint32_t network_id_;
    const crypto::NodeIdentity& identity_;
    const std::string self_;
    IssuanceLedger& ledger_;
    const Clock& clock_;
    PeerNet& net_;
    std::chrono::seconds max_skew_;
    std::function<std::vector<InboxPeer>()> members_;
};

}  // namespace dhtalk
