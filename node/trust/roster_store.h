#pragma once
// RosterStore: the trusted network's state in the node's Store, so that a
// restarted member resumes where it was: the chain of roster epochs (under
// "ro/" + epoch), pending applications ("ap/" + node id) and the current
// epoch's ballots ("bl/" + epoch + voter + change + subject) and members'
// newest member updates ("ep/" + node id). What is loaded
// is verified again by RosterVote::create and its offer_* calls: the disk
// is not trusted more than a peer. Not thread-safe: the node serialises it.

#include <vector>

#include "roster/roster_documents.h"
#include "storage/store.h"

namespace dhtalk {

class RosterStore {
public:
    explicit RosterStore(Store& store) : store_(store) {}  // `store` must outlive this

    Status save_epoch(const RosterEpoch& e);
    // The stored chain in epoch order; kCorruption if a stored epoch does not decode.
    Result<std::vector<RosterEpoch>> load_chain() const;
    // Whether any epoch is stored.
    Result<bool> has_chain() const;
    // One stored epoch, encoded as it was saved (kNotFound if it is not).
    Result<std::string> load_encoded_epoch(uint64_t epoch) const;

    Status save_application(const Application& a);
    Status erase_application(const std::string& node_id);
    Result<std::vector<Application>> load_applications() const;

    Status save_ballot(const Ballot& b);
    Result<std::vector<Ballot>> load_ballots() const;
    // Drops the ballots of epochs before `epoch`.
    Status forget_ballots_before(uint64_t epoch);

    // One per member: a newer update replaces the one kept.
    Status save_member_update(const MemberUpdate& u);
    Status erase_member_update(const std::string& node_id);
    Result<std::vector<MemberUpdate>> load_member_updates() const;

private:
    Store& store_;
};

}  // namespace dhtalk
