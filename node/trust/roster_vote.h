#pragma once
// RosterVote: this node's view of the trusted network, as a passive state
// machine (docs/trust.md). It holds the head of the verified chain of roster
// epochs (the current epoch and the one before it, which a rival or a fork
// of the current one is checked against; the whole chain, which grows with
// every change of the members, is in the store: roster_store.h), the
// pending applications, and the ballots cast in the current epoch; it is
// fed documents (from peers, the admin interface or the store) and answers
// with what to do: a ballot of ours to send, an epoch to adopt and send on.
// It does no I/O and owns no clock, thread or socket; the node wires those.
//
// Rules it enforces beyond roster_rules.h:
// - a member approves at most one change per epoch, which makes two
//   different changes unable to both reach a majority in one epoch, so
//   honest members never fork the roster;
// - a member never votes on itself; ballots and applications are bounded;
// - an application is held once: the same application again (an applicant
//   re-applies every period) is a repeat, not news to relay; a changed one
//   replaces it at most once a minute;
// - applications expire a week after they were made, and one that a quorum
//   of members rejected is dismissed for the rest of the epoch.
// Not thread-safe: one owner.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "crypto/aead.h"
#include "crypto/node_identity.h"
#include "roster/roster_documents.h"

namespace dhtalk {

inline constexpr size_t kMaxPendingApplications = 64;
inline constexpr int64_t kApplicationLifetimeS = 7 * 24 * 3600;
inline constexpr int64_t kApplicationSkewS = 300;     // how far ahead an application's date may be
inline constexpr int64_t kApplicationRefreshS = 60;   // a changed application replaces the held one at most this often

class RosterVote {
public:
    // From a chain that starts at a genesis; it is verified here.
    // `self` must outlive the RosterVote.
    static Result<RosterVote> create(const std::vector<RosterEpoch>& chain, const crypto::NodeIdentity& self);

    const RosterEpoch& current() const { return current_; }
    // The epoch before the current one; null at the genesis.
    const RosterEpoch* previous() const { return previous_ ? &*previous_ : nullptr; }
    uint32_t network_id() const { return network_id_; }
    bool is_member() const;

    // A document from outside. Each returns why it was refused, or ok.
    // kAlreadyExists for a document already held (a harmless repeat).
    // `now_s`: the wall clock, for the application's age.
    Status offer_application(const Application& a, int64_t now_s);
    Status offer_ballot(const Ballot& b);
    // Drops the applications older than their lifetime; returns their ids.
    std::vector<std::string> expire_applications(int64_t now_s);
    // Whether a quorum of members rejected `subject`'s application in this epoch.
    bool dismissed(const std::string& subject) const;
    // Adopts `next` if it follows the current epoch and is valid. Two
    // members may assemble the same change at once: a valid rival of the
    // current epoch with a lower hash replaces it, so that every member ends
    // on the same one (kAlreadyExists for the rival that loses). An epoch
    // that lists this node but whose key this node cannot open (garbage, or
    // a key other than the one the epoch commits to) is refused with
    // kCorruption: adopting it would cut this node off the overlay.
    // With `accept_rival` false the current epoch is settled: a rival of it
    // is refused (kAlreadyExists), however low its hash.
    Status offer_epoch(const RosterEpoch& next, bool accept_rival = true);
    // Another member's branch, parting from this node's after `base`:
    // `theirs` runs from base.epoch + 1 on, and `ours_first` is this node's
    // epoch after `base`; both `base` and `ours_first` must be this node's
    // own (from the caller's store), `theirs` is verified here. A branch
    // longer than this node's is the one the network went on from: taken.
    // One as long is the rivals' rule (offer_epoch) where the two part: the
    // lower hash of the first epoch wins, so every node that sees both keeps
    // the same one (ballots name an epoch's number, not its hash, so one
    // vote can build on two rivals). kAlreadyExists when this node's branch
    // stays.
    Status offer_branch(const RosterEpoch& base, const RosterEpoch& ours_first, const std::vector<RosterEpoch>& theirs);

    // This node's vote. For an admission the subject must have applied.
    Result<Ballot> cast(ChangeKind change, const std::string& subject, Decision decision, std::string reason);

    // When a change has its approvals and this node is a member: the next
    // epoch, signed by this node, with `fresh_key` sealed to its members.
    // Not adopted until offered back (offer_epoch), like anyone else's.
    // Unless `any_member`, only the approver with the lowest node id
    // assembles, so that members seldom race (the fallback for when it is
    // away is the caller's to time).
    std::optional<Result<RosterEpoch>> assemble(const crypto::AeadKey& fresh_key, bool any_member = false) const;
    // Whether some change has its approvals.
    bool has_quorum() const;

    struct Proposal {
        ChangeKind change;
        std::string subject;
        std::string contact;  // the applicant's, for admissions
        std::vector<std::string> approvals;  // voters
        std::vector<std::string> rejections;
        size_t needed = 0;
    };
    // Open applications and ban proposals in the current epoch.
    std::vector<Proposal> proposals() const;
    const std::map<std::string, Application>& applications() const { return applications_; }
    std::vector<Ballot> ballots() const;

private:
    RosterVote(const std::vector<RosterEpoch>& chain, uint32_t network_id, const crypto::NodeIdentity& self);
    size_t needed_for(ChangeKind change) const;
    Status usable(const RosterEpoch& epoch) const;  // this node can open its key, if it is a member
    void entered_epoch();                           // the current epoch changed

    std::optional<RosterEpoch> previous_;
    RosterEpoch current_;
    uint32_t network_id_;
    const crypto::NodeIdentity* self_;
    std::string self_id_;
    std::map<std::string, Application> applications_;  // by applicant node id
    // Ballots of the current epoch by (voter, change, subject).
    std::map<std::tuple<std::string, ChangeKind, std::string>, Ballot> ballots_;
};

}  // namespace dhtalk
