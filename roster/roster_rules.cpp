#include "roster/roster_rules.h"

#include <algorithm>
#include <set>

#include "common/host_port.h"
#include "crypto/fast_key.h"
#include "crypto/signing.h"

namespace dhtalk {
namespace {

std::string short_id(const std::string& id) { return id.substr(0, 8); }

// The member's certificate, checked to be the one its node id names.
Result<std::shared_ptr<dht::crypto::Certificate>> certificate_of(const Member& m) {
    auto cert = crypto::parse_certificate(m.certificate);
    if (!cert) return Status::invalid("member " + short_id(m.node_id) + ": " + cert.status().message());
    if (crypto::node_id_of(**cert) != m.node_id)
        return Status::invalid("member " + short_id(m.node_id) + ": the certificate is another node's");
    // OpenDHT signs and encrypts with the node's identity: RSA only.
    if (gnutls_x509_crt_get_pk_algorithm((*cert)->cert, nullptr) != GNUTLS_PK_RSA)
        return Status::invalid("member " + short_id(m.node_id) + ": the identity's key is not RSA");
    return cert;
}

Status check_client_endpoints(const std::string& node_id, const std::vector<std::string>& endpoints) {
    for (const auto& e : endpoints)
        if (!parse_host_port(e))
            return Status::invalid("member " + short_id(node_id) + " names a client endpoint that is not HOST:PORT");
    return Status::ok();
}

Status check_member_fields(const Member& m) {
    if (m.endpoints.empty()) return Status::invalid("member " + short_id(m.node_id) + " has no endpoint");
    DHTALK_TRY(check_client_endpoints(m.node_id, m.advert.client_endpoints));
    DHTALK_TRY(certificate_of(m).status());
    if (m.fast_key.size() != crypto::kFastPublicKeyBytes)
        return Status::invalid("member " + short_id(m.node_id) + " names no Ed25519 fast key of " +
                               std::to_string(crypto::kFastPublicKeyBytes) + " bytes");
    return Status::ok();
}

Status check_signed_by(const RosterEpoch& roster, const std::string& node_id, std::string_view body,
                       std::string_view signature, const char* what) {
    const Member* m = roster.member(node_id);
    if (!m) return Status::invalid(std::string(what) + " is signed by " + short_id(node_id) + ", not a member");
    auto cert = certificate_of(*m);
    if (!cert) return cert.status();
    if (!crypto::verify(**cert, body, signature))
        return Status::invalid(std::string(what) + ": the signature of " + short_id(node_id) + " does not verify");
    return Status::ok();
}

bool sorted_unique(const std::vector<std::string>& ids) {
    return std::adjacent_find(ids.begin(), ids.end(), std::greater_equal<>()) == ids.end();
}

std::vector<std::string> member_ids(const RosterEpoch& e) {
    std::vector<std::string> ids;
    for (const auto& m : e.members) ids.push_back(m.node_id);
    return ids;
}

Status check_keys(const RosterEpoch& e) {
    std::vector<std::string> ids;
    for (const auto& k : e.keys) ids.push_back(k.node_id);
    std::sort(ids.begin(), ids.end());
    if (ids != member_ids(e)) return Status::invalid("the epoch key is not sealed to exactly the members");
    for (const auto& k : e.keys)
        if (k.sealed.empty()) return Status::invalid("an empty sealed epoch key");
    if (e.key_digest.size() != 32) return Status::invalid("the epoch commits to no key (a digest of 32 bytes)");
    return Status::ok();
}

}  // namespace

uint32_t network_id_of_genesis(const RosterEpoch& genesis) {
    const std::string h = crypto::sha256(encode(genesis));
    const uint32_t id = (uint32_t{static_cast<uint8_t>(h[0])} << 24) | (uint32_t{static_cast<uint8_t>(h[1])} << 16) |
                        (uint32_t{static_cast<uint8_t>(h[2])} << 8) | uint32_t{static_cast<uint8_t>(h[3])};
    return id == 0 ? 1 : id;
}

std::string hash_of(const RosterEpoch& epoch) { return crypto::sha256(encode(epoch)); }

size_t approvals_needed(QuorumRule rule, size_t eligible) {
    if (eligible == 0) return 0;
    // More than half: floor(n/2)+1. More than two thirds: floor(2n/3)+1.
    return rule == QuorumRule::kTwoThirds ? (2 * eligible) / 3 + 1 : eligible / 2 + 1;
}

Status verify_genesis(const RosterEpoch& g) {
    if (g.epoch != 0 || g.change != ChangeKind::kGenesis) return Status::invalid("not a genesis epoch");
    if (g.network_id != 0 || !g.prev_hash.empty() || !g.revoked.empty() || !g.ballots.empty())
        return Status::invalid("a genesis carries no network id, previous hash, revocations or ballots");
    if (g.settings.name.empty()) return Status::invalid("the genesis names no network");
    if (g.settings.user_id_scheme != "kontalk-sha1")
        return Status::invalid("unknown user id scheme '" + g.settings.user_id_scheme + "'");
    if (g.members.size() != 1) return Status::invalid("a genesis has exactly one member, its founder");
    const Member& founder = g.members.front();
    if (g.subject != founder.node_id || g.assembler != founder.node_id)
        return Status::invalid("the genesis is not its founder's");
    DHTALK_TRY(check_member_fields(founder));
    DHTALK_TRY(check_keys(g));
    return check_signed_by(g, g.assembler, body_of(g), g.signature, "the genesis");
}

Status check_room(const RosterEpoch& current, ChangeKind change) {
    if (change == ChangeKind::kAdmit && current.members.size() >= kMaxMembers)
        return Status::exhausted("the network is full: a roster holds at most " + std::to_string(kMaxMembers) +
                                 " members");
    if (change == ChangeKind::kBan && current.revoked.size() >= kMaxRevoked)
        return Status::exhausted("the roster already lists the most banned nodes it can hold (" +
                                 std::to_string(kMaxRevoked) + ")");
    return Status::ok();
}

Status verify_application(const Application& a, uint32_t network_id, const RosterEpoch& current) {
    if (a.network_id != network_id) return Status::invalid("the application is for another network");
    DHTALK_TRY(check_room(current, ChangeKind::kAdmit));
    const auto& id = a.applicant.node_id;
    if (current.member(id)) return Status::invalid("node " + short_id(id) + " is already a member");
    if (std::binary_search(current.revoked.begin(), current.revoked.end(), id))
        return Status::invalid("node " + short_id(id) + " was banned");
    DHTALK_TRY(check_member_fields(a.applicant));
    auto cert = certificate_of(a.applicant);
    if (!crypto::verify(**cert, body_of(a), a.signature))
        return Status::invalid("the application's signature does not verify");
    return Status::ok();
}

Status verify_member_update(const MemberUpdate& u, uint32_t network_id, const RosterEpoch& current) {
    if (u.network_id != network_id) return Status::invalid("the member update is for another network");
    DHTALK_TRY(check_client_endpoints(u.node_id, u.advert.client_endpoints));
    return check_signed_by(current, u.node_id, body_of(u), u.signature, "the member update");
}

Status verify_ballot(const Ballot& b, uint32_t network_id, const RosterEpoch& current) {
    if (b.network_id != network_id) return Status::invalid("the ballot is for another network");
    if (b.epoch != current.epoch)
        return Status::invalid("the ballot is for epoch " + std::to_string(b.epoch) + ", not the current " +
                               std::to_string(current.epoch));
    if (b.voter == b.subject) return Status::invalid("a member cannot vote on itself");
    const bool is_member = current.member(b.subject) != nullptr;
    const bool is_revoked = std::binary_search(current.revoked.begin(), current.revoked.end(), b.subject);
    if (b.change == ChangeKind::kAdmit && (is_member || is_revoked))
        return Status::invalid("the ballot would admit " + short_id(b.subject) + ", a member or a banned node");
    if (b.change == ChangeKind::kBan && !is_member)
        return Status::invalid("the ballot would ban " + short_id(b.subject) + ", not a member");
    if (b.change == ChangeKind::kGenesis) return Status::invalid("nobody votes on a genesis");
    DHTALK_TRY(check_room(current, b.change));
    return check_signed_by(current, b.voter, body_of(b), b.signature, "the ballot");
}

Status verify_next(const RosterEpoch& prev, const RosterEpoch& next, uint32_t network_id) {
    if (next.epoch != prev.epoch + 1)
        return Status::invalid("epoch " + std::to_string(next.epoch) + " does not follow " + std::to_string(prev.epoch));
    if (next.network_id != network_id) return Status::invalid("the epoch is another network's");
    if (next.prev_hash != hash_of(prev)) return Status::invalid("the epoch does not link to the previous one");
    if (next.settings != prev.settings) return Status::invalid("network settings cannot change");
    DHTALK_TRY(check_room(prev, next.change));
    if (!sorted_unique(member_ids(next)) || !sorted_unique(next.revoked))
        return Status::invalid("members or revocations are not sorted and unique");

    // The change: members and revocations must be the previous ones plus or minus the subject.
    std::vector<Member> expected = prev.members;
    std::vector<std::string> expected_revoked = prev.revoked;
    const size_t eligible = prev.members.size();
    if (next.change == ChangeKind::kAdmit) {
        if (prev.member(next.subject)) return Status::invalid("the admitted node is already a member");
        if (std::binary_search(prev.revoked.begin(), prev.revoked.end(), next.subject))
            return Status::invalid("the admitted node was banned");
        const Member* admitted = next.member(next.subject);
        if (!admitted) return Status::invalid("the admitted node is not in the new roster");
        DHTALK_TRY(check_member_fields(*admitted));
        expected.push_back(*admitted);
    } else if (next.change == ChangeKind::kBan) {
        if (!prev.member(next.subject)) return Status::invalid("the banned node is not a member");
        std::erase_if(expected, [&](const Member& m) { return m.node_id == next.subject; });
        expected_revoked.push_back(next.subject);
        // The subject counts among the members a ban needs more than the
        // share of, though it cannot vote: so two bans in one epoch cannot
        // both reach a quorum of disjoint voters.
    } else {
        return Status::invalid("only the genesis is a genesis");
    }
    std::sort(expected.begin(), expected.end(), [](const Member& a, const Member& b) { return a.node_id < b.node_id; });
    std::sort(expected_revoked.begin(), expected_revoked.end());
    if (next.members != expected || next.revoked != expected_revoked)
        return Status::invalid("the roster is not the previous one with exactly this change");

    // The ballots: distinct current members approving exactly this change.
    std::set<std::string> voters;
    for (const auto& b : next.ballots) {
        DHTALK_TRY(verify_ballot(b, network_id, prev));
        if (b.change != next.change || b.subject != next.subject || b.decision != Decision::kApprove)
            return Status::invalid("a ballot of " + short_id(b.voter) + " is not an approval of this change");
        if (!voters.insert(b.voter).second) return Status::invalid("a ballot of " + short_id(b.voter) + " counted twice");
    }
    const size_t needed = approvals_needed(prev.settings.quorum, eligible);
    if (needed == 0 || voters.size() < needed)
        return Status::invalid(std::to_string(voters.size()) + " approvals, " + std::to_string(needed) + " needed (" +
                               quorum_rule_name(prev.settings.quorum) + " of " + std::to_string(eligible) + ")");
    DHTALK_TRY(check_keys(next));
    // Assembled and signed by one of the approvers (never by a ban's
    // subject, which must not choose the key it is to be denied).
    if (!voters.count(next.assembler)) return Status::invalid("the epoch is not assembled by one of its approvers");
    return check_signed_by(prev, next.assembler, body_of(next), next.signature, "the epoch");
}

Status verify_chain(const std::vector<RosterEpoch>& chain, std::optional<uint32_t> expected_network_id) {
    if (chain.empty()) return Status::invalid("an empty chain");
    DHTALK_TRY(verify_genesis(chain.front()));
    const uint32_t id = network_id_of_genesis(chain.front());
    if (expected_network_id && id != *expected_network_id) return Status::invalid("the chain is another network's");
    for (size_t i = 1; i < chain.size(); ++i) {
        Status s = verify_next(chain[i - 1], chain[i], id);
        if (!s) return Status::invalid("epoch " + std::to_string(i) + ": " + s.message());
    }
    return Status::ok();
}

}  // namespace dhtalk
