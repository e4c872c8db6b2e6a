#include "node/trust/roster_builder.h"

#include <algorithm>

#include "crypto/signing.h"
#include "roster/roster_rules.h"

namespace dhtalk {
namespace {

Status seal_keys(RosterEpoch& e, const crypto::AeadKey& key) {
    e.keys.clear();
    e.key_digest = epoch_key_digest(key);
    const std::string_view secret(reinterpret_cast<const char*>(key.data()), key.size());
    for (const auto& m : e.members) {
        auto cert = crypto::parse_certificate(m.certificate);
        if (!cert) return cert.status();
        auto sealed = crypto::seal_to(**cert, secret);
        if (!sealed) return sealed.status();
        e.keys.push_back({m.node_id, std::move(sealed).value()});
    }
    return Status::ok();
}

template <class Doc>
Status sign_doc(Doc& doc, const crypto::NodeIdentity& id) {
    auto sig = crypto::sign(*id.key, body_of(doc));
    if (!sig) return sig.status();
    doc.signature = std::move(sig).value();
    return Status::ok();
}

// What a builder makes must decode again: a document beyond a decoder's
// bounds (size, counts, field lengths) would be refused by every peer, and
// by this node itself when it reads its store after a restart.
template <class Doc, class Decode>
Status decodes_again(const Doc& doc, Decode decode, const char* what) {
    auto back = decode(encode(doc));
    if (!back) return Status::invalid(std::string("the ") + what + " would exceed the bounds every node accepts: " +
                                      back.status().message());
    return Status::ok();
}

}  // namespace

Member member_of(const crypto::NodeIdentity& id, std::vector<std::string> endpoints, std::string contact,
                 MemberAdvert advert) {
    return Member{id.node_id_hex(), id.certificate->toString(false), std::move(endpoints), std::move(contact),
                  id.fast_public, std::move(advert)};
}

Result<RosterEpoch> make_genesis(const crypto::NodeIdentity& founder, const NetworkSettings& settings,
                                 std::vector<std::string> endpoints, std::string contact,
                                 const crypto::AeadKey& epoch_key, MemberAdvert advert) {
    RosterEpoch g;
    g.settings = settings;
    g.members.push_back(member_of(founder, std::move(endpoints), std::move(contact), std::move(advert)));
    g.change = ChangeKind::kGenesis;
    g.subject = g.assembler = founder.node_id_hex();
    DHTALK_TRY(seal_keys(g, epoch_key));
    DHTALK_TRY(sign_doc(g, founder));
    DHTALK_TRY(decodes_again(g, decode_roster_epoch, "genesis"));
    DHTALK_TRY(verify_genesis(g));
    return g;
}

Result<Application> make_application(const crypto::NodeIdentity& id, uint32_t network_id,
                                     std::vector<std::string> endpoints, std::string contact, int64_t now_s,
                                     MemberAdvert advert) {
    Application a;
    a.network_id = network_id;
    a.applicant = member_of(id, std::move(endpoints), std::move(contact), std::move(advert));
    a.created_at_s = now_s;
    DHTALK_TRY(sign_doc(a, id));
    DHTALK_TRY(decodes_again(a, decode_application, "application"));
    return a;
}

Result<MemberUpdate> make_member_update(const crypto::NodeIdentity& id, uint32_t network_id, uint64_t serial,
                                            MemberAdvert advert) {
    MemberUpdate u{network_id, id.node_id_hex(), serial, std::move(advert), {}};
    DHTALK_TRY(sign_doc(u, id));
    DHTALK_TRY(decodes_again(u, decode_member_update, "member update"));
    return u;
}

Result<Ballot> make_ballot(const crypto::NodeIdentity& voter, uint32_t network_id, uint64_t epoch, ChangeKind change,
                           std::string subject, Decision decision, std::string reason) {
    Ballot b;
    b.network_id = network_id;
    b.epoch = epoch;
    b.voter = voter.node_id_hex();
    b.change = change;
    b.subject = std::move(subject);
    b.decision = decision;
    b.reason = std::move(reason);
    DHTALK_TRY(sign_doc(b, voter));
    DHTALK_TRY(decodes_again(b, decode_ballot, "ballot"));
    return b;
}

Result<RosterEpoch> assemble_next(const RosterEpoch& prev, uint32_t network_id, ChangeKind change,
                                  const std::string& subject, const Member* admitted,
                                  const std::vector<Ballot>& approvals, const crypto::NodeIdentity& assembler,
                                  const crypto::AeadKey& epoch_key) {
    DHTALK_TRY(check_room(prev, change));
    RosterEpoch next;
    next.network_id = network_id;
    next.epoch = prev.epoch + 1;
    next.prev_hash = hash_of(prev);
    next.settings = prev.settings;
    next.members = prev.members;
    next.revoked = prev.revoked;
    next.change = change;
    next.subject = subject;
    if (change == ChangeKind::kAdmit) {
        if (!admitted || admitted->node_id != subject) return Status::invalid("no member to admit");
        next.members.push_back(*admitted);
    } else if (change == ChangeKind::kBan) {
        std::erase_if(next.members, [&](const Member& m) { return m.node_id == subject; });
        next.revoked.push_back(subject);
    }
    std::sort(next.members.begin(), next.members.end(),
              [](const Member& a, const Member& b) { return a.node_id < b.node_id; });
    std::sort(next.revoked.begin(), next.revoked.end());
    for (const auto& b : approvals)
        if (b.change == change && b.subject == subject && b.decision == Decision::kApprove) next.ballots.push_back(b);
    std::sort(next.ballots.begin(), next.ballots.end(), [](const Ballot& a, const Ballot& b) { return a.voter < b.voter; });
    next.assembler = assembler.node_id_hex();
    DHTALK_TRY(seal_keys(next, epoch_key));
    DHTALK_TRY(sign_doc(next, assembler));
    DHTALK_TRY(decodes_again(next, decode_roster_epoch, "epoch"));
    DHTALK_TRY(verify_next(prev, next, network_id));
    return next;
}

std::string epoch_key_digest(const crypto::AeadKey& key) {
    return crypto::sha256("dhtalk epoch key\n" + std::string(reinterpret_cast<const char*>(key.data()), key.size()));
}

Result<crypto::AeadKey> open_epoch_key(const RosterEpoch& epoch, const crypto::NodeIdentity& id) {
    const auto me = id.node_id_hex();
    for (const auto& k : epoch.keys) {
        if (k.node_id != me) continue;
        auto secret = crypto::open_sealed(*id.key, k.sealed);
        if (!secret)
            return Status::corruption("the key epoch " + std::to_string(epoch.epoch) +
                                      " seals to this node does not open: " + secret.status().message());
        crypto::AeadKey key;
        if (secret->size() != key.size()) return Status::corruption("the sealed epoch key has the wrong size");
        std::copy(secret->begin(), secret->end(), key.begin());
        if (epoch_key_digest(key) != epoch.key_digest)
            return Status::corruption("the key epoch " + std::to_string(epoch.epoch) +
                                      " seals to this node is not the key the epoch commits to");
        return key;
    }
    return Status::not_found("epoch " + std::to_string(epoch.epoch) + " holds no key for this node");
}

}  // namespace dhtalk
