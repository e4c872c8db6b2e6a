#include "node/trust/roster_vote.h"

#include <algorithm>
#include <set>

#include "node/trust/roster_builder.h"
#include "roster/roster_rules.h"

namespace dhtalk {

Result<RosterVote> RosterVote::create(const std::vector<RosterEpoch>& chain, const crypto::NodeIdentity& self) {
    DHTALK_TRY(verify_chain(chain, std::nullopt));
    const uint32_t id = network_id_of_genesis(chain.front());
    return RosterVote(chain, id, self);
}

RosterVote::RosterVote(const std::vector<RosterEpoch>& chain, uint32_t network_id, const crypto::NodeIdentity& self)
    : current_(chain.back()), network_id_(network_id), self_(&self), self_id_(self.node_id_hex()) {
    if (chain.size() >= 2) previous_ = chain[chain.size() - 2];
}

bool RosterVote::is_member() const { return current().member(self_id_) != nullptr; }

size_t RosterVote::needed_for(ChangeKind) const {
    // Bans too: the subject counts though it cannot vote (roster_rules.h).
    return approvals_needed(current().settings.quorum, current().members.size());
}

Status RosterVote::offer_application(const Application& a, int64_t now_s) {
    DHTALK_TRY(verify_application(a, network_id_, current()));
    if (a.created_at_s > now_s + kApplicationSkewS) return Status::invalid("the application is dated in the future");
    if (a.created_at_s + kApplicationLifetimeS <= now_s) return Status::invalid("the application has expired");
    const auto& id = a.applicant.node_id;
    if (dismissed(id))
        return Status::denied("the members dismissed the application of " + id.substr(0, 8) + " in epoch " +
                              std::to_string(current().epoch));
    if (auto it = applications_.find(id); it != applications_.end()) {
        if (a.applicant == it->second.applicant) return Status(Code::kAlreadyExists, "application already held");
        if (a.created_at_s < it->second.created_at_s + kApplicationRefreshS)
            return Status(Code::kAlreadyExists, "a changed application replaces the held one at most once a minute");
        it->second = a;  // new endpoints or contact
        return Status::ok();
    }
    if (applications_.size() >= kMaxPendingApplications)
        return Status::busy("too many pending applications (" + std::to_string(kMaxPendingApplications) + ")");
    applications_.emplace(id, a);
    return Status::ok();
}

std::vector<std::string> RosterVote::expire_applications(int64_t now_s) {
    std::vector<std::string> gone;
    std::erase_if(applications_, [&](const auto& entry) {
        if (entry.second.created_at_s + kApplicationLifetimeS > now_s) return false;
        gone.push_back(entry.first);
        return true;
    });
    return gone;
}

bool RosterVote::dismissed(const std::string& subject) const {
    size_t rejections = 0;
    for (const auto& [k, b] : ballots_)
        rejections += b.change == ChangeKind::kAdmit && b.subject == subject && b.decision == Decision::kReject;
    const size_t needed = needed_for(ChangeKind::kAdmit);
    return needed > 0 && rejections >= needed;
}

Status RosterVote::offer_ballot(const Ballot& b) {
    DHTALK_TRY(verify_ballot(b, network_id_, current()));
    auto key = std::make_tuple(b.voter, b.change, b.subject);
    if (ballots_.count(key)) return Status(Code::kAlreadyExists, "ballot already held");
    if (b.decision == Decision::kApprove) {
        for (const auto& [k, other] : ballots_)
            if (other.voter == b.voter && other.decision == Decision::kApprove)
                return Status::invalid("member " + b.voter.substr(0, 8) + " already approved another change in epoch " +
                                       std::to_string(current().epoch));
    }
    // Bounded: one ballot per member and change; a member's ballots are few.
    size_t from_voter = 0;
    for (const auto& [k, other] : ballots_) from_voter += other.voter == b.voter;
    if (from_voter >= 2 * kMaxPendingApplications) return Status::busy("too many ballots from one member");
    ballots_.emplace(std::move(key), b);
    if (b.change == ChangeKind::kAdmit && b.decision == Decision::kReject && dismissed(b.subject))
        applications_.erase(b.subject);
    return Status::ok();
}

Status RosterVote::usable(const RosterEpoch& epoch) const {
    // A member must be able to use the epoch: an assembler that sealed it
    // garbage or another key would cut it off the overlay for good.
    if (self_ && epoch.member(self_id_)) return open_epoch_key(epoch, *self_).status();
    return Status::ok();
}

void RosterVote::entered_epoch() {
    ballots_.clear();  // ballots are per epoch
    std::erase_if(applications_, [&](const auto& entry) {
        return !verify_application(entry.second, network_id_, current()).is_ok();
    });
}

Status RosterVote::offer_branch(const RosterEpoch& base, const RosterEpoch& ours_first,
                                const std::vector<RosterEpoch>& theirs) {
    if (theirs.empty() || theirs.front().epoch != base.epoch + 1 || ours_first.epoch != base.epoch + 1 ||
        ours_first.prev_hash != hash_of(base) || ours_first.epoch > current().epoch ||
        hash_of(theirs.front()) == hash_of(ours_first))
        return Status(Code::kAlreadyExists, "no other branch to take");
    if (theirs.back().epoch < current().epoch) return Status(Code::kAlreadyExists, "the other branch is shorter");
    if (theirs.back().epoch == current().epoch && hash_of(theirs.front()) > hash_of(ours_first))
        return Status(Code::kAlreadyExists, "this node's branch has the lower hash where the two part");
    DHTALK_TRY(verify_next(base, theirs.front(), network_id_));
    for (size_t i = 1; i < theirs.size(); ++i) DHTALK_TRY(verify_next(theirs[i - 1], theirs[i], network_id_));
    DHTALK_TRY(usable(theirs.back()));
    previous_ = theirs.size() >= 2 ? theirs[theirs.size() - 2] : base;
    current_ = theirs.back();
    entered_epoch();
    return Status::ok();
}

Status RosterVote::offer_epoch(const RosterEpoch& next, bool accept_rival) {
    if (next.epoch == current().epoch && previous_) {
        if (hash_of(next) == hash_of(current())) return Status(Code::kAlreadyExists, "epoch already adopted");
        if (!accept_rival)
            return Status(Code::kAlreadyExists, "epoch " + std::to_string(next.epoch) +
                                                    " is settled here: a rival of it comes too late");
        if (hash_of(next) > hash_of(current()))
            return Status(Code::kAlreadyExists, "epoch already adopted (or a rival with a higher hash)");
        DHTALK_TRY(verify_next(*previous_, next, network_id_));
        DHTALK_TRY(usable(next));
        current_ = next;  // the same change, assembled by another member: the lower hash wins
        return Status::ok();
    }
    if (next.epoch <= current().epoch) return Status(Code::kAlreadyExists, "epoch already adopted");
    DHTALK_TRY(verify_next(current(), next, network_id_));
    DHTALK_TRY(usable(next));
    previous_ = std::move(current_);
    current_ = next;
    entered_epoch();
    return Status::ok();
}

Result<Ballot> RosterVote::cast(ChangeKind change, const std::string& subject, Decision decision, std::string reason) {
    if (!is_member()) return Status::invalid("this node is not a member of the network");
    if (change == ChangeKind::kAdmit && !applications_.count(subject))
        return Status::not_found("no pending application from " + subject);
    auto ballot = make_ballot(*self_, network_id_, current().epoch, change, subject, decision, std::move(reason));
    if (!ballot) return ballot.status();
    DHTALK_TRY(offer_ballot(*ballot));
    return ballot;
}

bool RosterVote::has_quorum() const {
    for (const auto& p : proposals())
        if (p.needed > 0 && p.approvals.size() >= p.needed) return true;
    return false;
}

std::optional<Result<RosterEpoch>> RosterVote::assemble(const crypto::AeadKey& fresh_key, bool any_member) const {
    if (!is_member()) return std::nullopt;
    for (const auto& p : proposals()) {
        if (p.approvals.size() < p.needed || p.needed == 0) continue;
        if (std::find(p.approvals.begin(), p.approvals.end(), self_id_) == p.approvals.end()) continue;  // approvers assemble
        if (!any_member && *std::min_element(p.approvals.begin(), p.approvals.end()) != self_id_) continue;
        std::vector<Ballot> approvals;
        for (const auto& [k, b] : ballots_)
            if (b.change == p.change && b.subject == p.subject && b.decision == Decision::kApprove)
                approvals.push_back(b);
        const Member* admitted = nullptr;
        if (p.change == ChangeKind::kAdmit) admitted = &applications_.at(p.subject).applicant;
        return assemble_next(current(), network_id_, p.change, p.subject, admitted, approvals, *self_, fresh_key);
    }
    return std::nullopt;
}

std::vector<RosterVote::Proposal> RosterVote::proposals() const {
    std::map<std::pair<ChangeKind, std::string>, Proposal> open;
    for (const auto& [id, a] : applications_) {
        auto& p = open[{ChangeKind::kAdmit, id}];
        p.change = ChangeKind::kAdmit;
        p.subject = id;
        p.contact = a.applicant.contact;
    }
    for (const auto& [k, b] : ballots_) {
        if (b.change == ChangeKind::kAdmit && !applications_.count(b.subject)) continue;  // nothing to admit yet
        auto& p = open[{b.change, b.subject}];
        p.change = b.change;
        p.subject = b.subject;
        (b.decision == Decision::kApprove ? p.approvals : p.rejections).push_back(b.voter);
    }
    std::vector<Proposal> out;
    for (auto& [k, p] : open) {
        p.needed = needed_for(p.change);
        out.push_back(std::move(p));
    }
    return out;
}

std::vector<Ballot> RosterVote::ballots() const {
    std::vector<Ballot> out;
    for (const auto& [k, b] : ballots_) out.push_back(b);
    return out;
}

}  // namespace dhtalk
