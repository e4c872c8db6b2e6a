#pragma once
// Making the documents of the trusted network with this node's identity:
// a genesis to found a network, an application to join one, a ballot, and
// the next roster epoch once a change has its approvals. Each result passes
// roster_rules.h, or the function returns the rule it would break.

#include <vector>

#include "common/status.h"
#include "crypto/aead.h"
#include "crypto/node_identity.h"
#include "roster/roster_documents.h"

namespace dhtalk {

// This node as a roster member: its DHT endpoints, its operator's contact,
// and its advert (where clients reach it, what it offers).
Member member_of(const crypto::NodeIdentity& id, std::vector<std::string> endpoints, std::string contact,
                 MemberAdvert advert = {});

Result<RosterEpoch> make_genesis(const crypto::NodeIdentity& founder, const NetworkSettings& settings,
                                 std::vector<std::string> endpoints, std::string contact,
                                 const crypto::AeadKey& epoch_key, MemberAdvert advert = {});
Result<Application> make_application(const crypto::NodeIdentity& id, uint32_t network_id,
                                     std::vector<std::string> endpoints, std::string contact, int64_t now_s,
                                     MemberAdvert advert = {});
// This node's advert from now on; `serial` must exceed the last one's.
Result<MemberUpdate> make_member_update(const crypto::NodeIdentity& id, uint32_t network_id, uint64_t serial,
                                        MemberAdvert advert);
Result<Ballot> make_ballot(const crypto::NodeIdentity& voter, uint32_t network_id, uint64_t epoch, ChangeKind change,
                           std::string subject, Decision decision, std::string reason);

// The epoch after `prev` with `change` applied to `subject` (`admitted` is
// the new member for an admission), carried by `approvals`, with a fresh
// `epoch_key` sealed to every member, signed by `assembler`.
Result<RosterEpoch> assemble_next(const RosterEpoch& prev, uint32_t network_id, ChangeKind change,
                                  const std::string& subject, const Member* admitted,
                                  const std::vector<Ballot>& approvals, const crypto::NodeIdentity& assembler,
                                  const crypto::AeadKey& epoch_key);

// What an epoch's key_digest is for `key`.
std::string epoch_key_digest(const crypto::AeadKey& key);
// This node's copy of the epoch key, opened with its private key and checked
// against the epoch's key_digest: kCorruption if it does not open or is
// another key (an assembler that cut this node out), kNotFound if the epoch
// seals none to this node.
Result<crypto::AeadKey> open_epoch_key(const RosterEpoch& epoch, const crypto::NodeIdentity& id);

}  // namespace dhtalk
