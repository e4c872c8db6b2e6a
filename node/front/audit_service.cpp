#include "node/front/audit_service.h"

#include <map>
#include <set>

#include "crypto/fast_key.h"
#include "crypto/signing.h"
#include "node/front/member_request.h"

namespace dhtalk {
namespace {

constexpr const char* kAuditPath = "/v1/audit";

}  // namespace

AuditService::AuditService(uint32_t network_id, const crypto::NodeIdentity& identity, IssuanceLedger& ledger,
                           const Clock& clock, PeerNet& net, std::chrono::seconds max_skew)
    : network_id_(network_id),
      identity_(identity),
      self_(identity.node_id_hex()),
      ledger_(ledger),
      clock_(clock),
      net_(net),
      max_skew_(max_skew) {}

Result<AuditAnswer> AuditService::ask(const InboxPeer& peer, uint32_t first_day) {
    AuditRequest r;
    r.network_id = network_id_;
    r.from = self_;
    r.to = peer.node_id;
    r.sent_ms = to_unix_millis(clock_.wall_now());
    r.first_day = first_day;
    auto signature = crypto::sign(*identity_.fast_key, body_of(r));
    if (!signature) return signature.status();
    r.signature = std::move(signature).value();
    const std::string request = encode(r);
    auto reply = net_.exchange(peer.endpoint, PeerCall{"POST", kAuditPath, request, {}}, kMaxAuditAnswerBytes);
    if (!reply) return Status::unavailable("did not answer: " + reply.status().message());
    if (reply->status != 200) return Status::unavailable("refused the request: " + reply->body.substr(0, 256));
    auto a = decode_audit_answer(reply->body);
    if (!a) return Status::unavailable("answered with a malformed answer: " + a.status().message());
    if (a->from != peer.node_id || a->network_id != network_id_ || a->request_digest != crypto::sha256(request))
        return Status::unavailable("answered another request");
    if (!crypto::verify_fast(peer.fast_key, body_of(*a), a->signature))
        return Status::unavailable("answered with an answer its key did not sign");
    return a;
}

Result<std::string> AuditService::on_audit_request(std::string_view bytes) {
    auto r = decode_audit_request(bytes);
    if (!r) return r.status();
    std::string fast_key;
    if (members_)
        for (const auto& m : members_())
            if (m.node_id == r->from) fast_key = m.fast_key;
    DHTALK_TRY(check_member_request({"an audit request", r->network_id, r->from, r->to, r->sent_ms, body_of(*r), r->signature},
                                    {network_id_, self_, fast_key, clock_.wall_now(), max_skew_}));
    AuditAnswer a;
    a.network_id = network_id_;
    a.from = self_;
    a.request_digest = crypto::sha256(bytes);
    auto entries = ledger_.entries(r->first_day, kMaxAuditEntries, &a.truncated);
    if (!entries) return entries.status();
    a.entries = std::move(entries).value();
    auto signature = crypto::sign(*identity_.fast_key, body_of(a));
    if (!signature) return signature.status();
    a.signature = std::move(signature).value();
    return encode(a);
}

AuditReport AuditService::gather(uint32_t days) {
    AuditReport report;
    const uint32_t today = day_of(to_unix_seconds(clock_.wall_now()));
    report.first_day = days > today ? 0 : today - days + 1;
    std::set<IssuanceEntry> all;
    auto take = [&](std::vector<IssuanceEntry>& entries, bool truncated) {
        report.truncated |= truncated;
        all.insert(std::make_move_iterator(entries.begin()), std::make_move_iterator(entries.end()));
    };
    for (const auto& peer : members_ ? members_() : std::vector<InboxPeer>{}) {
        if (peer.node_id == self_) continue;
        ++report.members_asked;
        if (!peer.alive) {
            report.unanswered.push_back(peer.node_id + ": declared dead by the membership protocol");
            continue;
        }
        auto a = ask(peer, report.first_day);
        if (!a) {
            report.unanswered.push_back(peer.node_id + ": " + a.status().message());
            continue;
        }
        take(a->entries, a->truncated);
    }
    ++report.members_asked;  // and this node's own ledger
    bool truncated = false;
    auto own = ledger_.entries(report.first_day, kMaxAuditEntries, &truncated);
    if (own) take(*own, truncated);
    else report.unanswered.push_back(self_ + ": " + own.status().message());
    // (issuer, day) -> certificates and users; the set is in that order.
    std::map<std::pair<std::string, uint32_t>, std::pair<std::set<uint64_t>, std::set<std::string>>> seen;
    std::set<std::pair<std::string, uint32_t>> capped;
    for (const auto& e : all) {
        const auto at = std::make_pair(e.issuer, e.day);
        if (e.user_id.empty()) {
            capped.insert(at);
            continue;
        }
        auto& [certificates, users] = seen[at];
        certificates.insert(e.certificate);
        users.insert(e.user_id);
    }
    for (const auto& at : capped) seen[at];
    for (const auto& [at, sets] : seen)
        report.counts.push_back({at.second, at.first, sets.first.size(), sets.second.size(), capped.count(at) > 0});
    return report;
}

}  // namespace dhtalk
