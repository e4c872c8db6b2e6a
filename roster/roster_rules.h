#pragma once
// The rules that make a roster epoch, an application or a ballot valid
// (docs/trust.md). Pure functions of the documents: every signature is
// checked against the certificates carried by the roster itself, so a chain
// of epochs verifies back to its genesis with nothing else trusted. Each
// refusal says why. Thread-safe.

#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "roster/roster_documents.h"

namespace dhtalk {

// First four bytes of SHA-256 over the genesis document; never 0.
uint32_t network_id_of_genesis(const RosterEpoch& genesis);
// SHA-256 of an epoch's encoding: what the next epoch names as prev_hash.
std::string hash_of(const RosterEpoch& epoch);
// The fewest approvals that are "more than" the rule's share of `eligible`
// voters (0 when nobody is eligible: then nothing can pass). For a ban the
// subject counts among them, though it cannot vote.
size_t approvals_needed(QuorumRule rule, size_t eligible);

// Whether `current` has room for a change of this kind: an admission needs
// fewer than kMaxMembers members, a ban fewer than kMaxRevoked revocations
// (kResourceExhausted otherwise), so no epoch outgrows what decoders accept.
Status check_room(const RosterEpoch& current, ChangeKind change);
Status verify_genesis(const RosterEpoch& genesis);
// An application to join the network whose current epoch is `current`.
Status verify_application(const Application& a, uint32_t network_id, const RosterEpoch& current);
// A ballot cast in `current`: by a current member, on a change that can
// still happen (admit a non-member who is not banned; ban a member other
// than the voter).
Status verify_ballot(const Ballot& b, uint32_t network_id, const RosterEpoch& current);
// A member's member update: for this network, by a member of `current`,
// naming HOST:PORT endpoints, signed by that member.
Status verify_member_update(const MemberUpdate& u, uint32_t network_id, const RosterEpoch& current);
// `next` follows `prev`: numbering, hash link, settings, the change and its
// ballots, sealed keys, the assembler's signature.
Status verify_next(const RosterEpoch& prev, const RosterEpoch& next, uint32_t network_id);
// A whole chain from genesis; with `expected_network_id`, also that it is
// the expected network's.
Status verify_chain(const std::vector<RosterEpoch>& chain, std::optional<uint32_t> expected_network_id);

}  // namespace dhtalk
