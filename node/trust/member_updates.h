#pragma once
// MemberUpdates: each member's advert as of its newest update: where
// clients reach it, and the space it offers for media. A roster lists a
// member's advert as of its admission; a member changes it (a port chosen
// at start, a new address, more disk) by a MemberUpdate it signs alone
// (roster_documents.h), which every other member checks and keeps.
// This holds the newest verified update of each current member, in the
// RosterStore so that a restart keeps them, and makes this node's own.
// Passive and not thread-safe: TrustedNetwork holds it under its lock.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "crypto/node_identity.h"
#include "node/trust/roster_store.h"
#include "roster/roster_documents.h"

namespace dhtalk {

class MemberUpdates {
public:
    // `store` and `identity` must outlive this.
    MemberUpdates(RosterStore& store, const crypto::NodeIdentity& identity) : store_(store), identity_(identity) {}

    // The stored updates that still verify against `current` (the disk is
    // trusted no more than a peer); the others are erased.
    void load(const RosterEpoch& current, uint32_t network_id);
    // A member's update: ok when it is kept (newer than the one held),
    // kAlreadyExists when it is not newer, or why it is refused.
    Status offer(const MemberUpdate& u, const RosterEpoch& current, uint32_t network_id);
    // The roster changed: the updates of members it no longer lists go.
    void follow(const RosterEpoch& current);

    // Makes this node's advert `wanted` as of `now_ms`: signs and keeps a
    // new update if this node is a member of `current` and its advert
    // differs. Returns the encoded update, or nullopt if none was needed.
    Result<std::optional<std::string>> set_own(const MemberAdvert& wanted, const RosterEpoch& current,
                                               uint32_t network_id, uint64_t now_ms);
    // This node's update as kept, encoded, if it made one.
    std::optional<std::string> own_update() const;

    // The advert of `m` as of its newest update.
    const MemberAdvert& of(const Member& m) const;
    // The encoded updates held, for clients to check themselves.
    std::vector<std::string> encoded_updates() const;

private:
    RosterStore& store_;
    const crypto::NodeIdentity& identity_;
    std::map<std::string, MemberUpdate> updates_;  // node id -> newest
};

}  // namespace dhtalk
