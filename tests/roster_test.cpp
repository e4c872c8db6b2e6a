// The trusted network's documents and rules: founding, admission and bans by
// quorum, chains that verify to their genesis, and every forgery or mistake
// refused with a reason.
#include <algorithm>
#include <cstdio>

#include "crypto/aead.h"
#include "crypto/signing.h"
#include "node/trust/peer_service.h"
#include "node/trust/roster_builder.h"
#include "roster/roster_rules.h"
#include "tests/hostile_keys.h"
#include "testing/test_util.h"

#include "tests/doctest.h"

using namespace dhtalk;

namespace {

// Node identities are costly to make: one set for the whole file.
const std::vector<crypto::NodeIdentity>& identities() {
    static test::TempDir dir;
    static const std::vector<crypto::NodeIdentity> ids = [] {
        std::vector<crypto::NodeIdentity> v;
        for (int i = 0; i < 7; ++i) {
            auto id = crypto::load_or_create_identity(dir / ("id" + std::to_string(i)), 2048);
            REQUIRE(id.is_ok());
            v.push_back(std::move(id).value());
        }
        return v;
    }();
    return ids;
}

std::vector<std::string> endpoint(int i) { return {"127.0.0.1:" + std::to_string(4000 + i)}; }

// A network founded by identity 0, grown with helpers that vote as needed.
struct RosterChain {
    explicit RosterChain(QuorumRule rule = QuorumRule::kMajority) {
        NetworkSettings s{"test-net", rule, "kontalk-sha1"};
        auto g = make_genesis(ids()[0], s, endpoint(0), "founder@example.org", crypto::random_key());
        REQUIRE_MESSAGE(g.is_ok(), g.status().to_string());
        chain.push_back(std::move(g).value());
        network_id = network_id_of_genesis(chain.front());
    }
    static const std::vector<crypto::NodeIdentity>& ids() { return identities(); }
    const RosterEpoch& current() const { return chain.back(); }

    Ballot ballot(int voter, ChangeKind change, const std::string& subject, Decision d = Decision::kApprove) {
        auto b = make_ballot(ids()[voter], network_id, current().epoch, change, subject, d, "test");
        REQUIRE(b.is_ok());
        return std::move(b).value();
    }
    // Votes of `voters` on a change, then assembly by the first voter.
    Result<RosterEpoch> decide(ChangeKind change, int subject, const std::vector<int>& voters) {
        std::vector<Ballot> ballots;
        for (int v : voters) ballots.push_back(ballot(v, change, ids()[subject].node_id_hex()));
        Member m = member_of(ids()[subject], endpoint(subject), "op" + std::to_string(subject));
        return assemble_next(current(), network_id, change, ids()[subject].node_id_hex(),
                             change == ChangeKind::kAdmit ? &m : nullptr, ballots, ids()[voters.front()], crypto::random_key());
    }
    void admit(int subject, const std::vector<int>& voters) {
        auto next = decide(ChangeKind::kAdmit, subject, voters);
        REQUIRE_MESSAGE(next.is_ok(), next.status().to_string());
        chain.push_back(std::move(next).value());
    }

    std::vector<RosterEpoch> chain;
    uint32_t network_id = 0;
};

using test::contains;

}  // namespace

TEST_CASE("quorum arithmetic: more than the share of eligible voters") {
    CHECK(approvals_needed(QuorumRule::kMajority, 1) == 1);
    CHECK(approvals_needed(QuorumRule::kMajority, 2) == 2);
    CHECK(approvals_needed(QuorumRule::kMajority, 3) == 2);
    CHECK(approvals_needed(QuorumRule::kMajority, 4) == 3);
    CHECK(approvals_needed(QuorumRule::kTwoThirds, 3) == 3);
    CHECK(approvals_needed(QuorumRule::kTwoThirds, 4) == 3);
    CHECK(approvals_needed(QuorumRule::kTwoThirds, 6) == 5);
    CHECK(approvals_needed(QuorumRule::kMajority, 0) == 0);
}

TEST_CASE("a genesis founds a network with its own id; documents round-trip") {
    RosterChain a, b;
    CHECK(verify_genesis(a.current()).is_ok());
    CHECK(a.network_id != 0);
    CHECK(a.network_id != b.network_id);  // same name, same founder: still two networks
    auto decoded = decode_roster_epoch(encode(a.current()));
    REQUIRE(decoded.is_ok());
    CHECK(encode(*decoded) == encode(a.current()));
    CHECK(network_id_of_genesis(*decoded) == a.network_id);
    auto key = open_epoch_key(a.current(), RosterChain::ids()[0]);
    CHECK(key.is_ok());
    CHECK(open_epoch_key(a.current(), RosterChain::ids()[1]).status().code() == Code::kNotFound);
}

TEST_CASE("admit four nodes one by one by majority, ban one; the chain verifies") {
    RosterChain net;
    net.admit(1, {0});           // 1 member: 1 approval
    net.admit(2, {0, 1});        // 2 members: 2
    net.admit(3, {1, 2});        // 3 members: 2
    net.admit(4, {0, 2, 3});     // 4 members: 3
    CHECK(net.current().members.size() == 5);
    CHECK(verify_chain(net.chain, net.network_id).is_ok());
    for (int i = 0; i < 5; ++i) CHECK(open_epoch_key(net.current(), RosterChain::ids()[i]).is_ok());

    // Too few approvals for a fifth admission (5 members: 3 needed).
    auto short_vote = net.decide(ChangeKind::kAdmit, 5, {0, 1});
    CHECK(contains(short_vote.status().message(), "2 approvals, 3 needed"));

    // Ban node 4: more than half of all 5 members, 3, though 4 cannot vote.
    // Node 4 cannot assemble its own ban (it would choose the key it is to lose).
    {
        std::vector<Ballot> ballots;
        for (int v : {0, 1, 2}) ballots.push_back(net.ballot(v, ChangeKind::kBan, RosterChain::ids()[4].node_id_hex()));
        auto own = assemble_next(net.current(), net.network_id, ChangeKind::kBan, RosterChain::ids()[4].node_id_hex(),
                                 nullptr, ballots, RosterChain::ids()[4], crypto::random_key());
        CHECK(contains(own.status().message(), "approvers"));
    }
    auto ban = net.decide(ChangeKind::kBan, 4, {0, 1, 2});
    REQUIRE_MESSAGE(ban.is_ok(), ban.status().to_string());
    net.chain.push_back(std::move(ban).value());
    CHECK(net.current().members.size() == 4);
    CHECK(net.current().revoked == std::vector<std::string>{RosterChain::ids()[4].node_id_hex()});
    CHECK(open_epoch_key(net.current(), RosterChain::ids()[4]).status().code() == Code::kNotFound);
    CHECK(verify_chain(net.chain, net.network_id).is_ok());
    CHECK_FALSE(verify_chain(net.chain, net.network_id + 1).is_ok());

    // The banned node can neither vote nor come back.
    auto banned_vote = make_ballot(RosterChain::ids()[4], net.network_id, net.current().epoch, ChangeKind::kAdmit,
                                   RosterChain::ids()[5].node_id_hex(), Decision::kApprove, "");
    REQUIRE(banned_vote.is_ok());
    CHECK(contains(verify_ballot(*banned_vote, net.network_id, net.current()).message(), "not a member"));
    auto reapply = make_application(RosterChain::ids()[4], net.network_id, endpoint(4), "again", 0);
    REQUIRE(reapply.is_ok());
    CHECK(contains(verify_application(*reapply, net.network_id, net.current()).message(), "banned"));
}

TEST_CASE("two-thirds quorum needs more approvals") {
    RosterChain net(QuorumRule::kTwoThirds);
    net.admit(1, {0});
    net.admit(2, {0, 1});
    CHECK_FALSE(net.decide(ChangeKind::kAdmit, 3, {0, 1}).is_ok());  // 3 members: 3 needed
    CHECK(net.decide(ChangeKind::kAdmit, 3, {0, 1, 2}).is_ok());
}

TEST_CASE("hostile ballots are refused with a reason") {
    RosterChain net;
    net.admit(1, {0});
    net.admit(2, {0, 1});
    const auto subject = RosterChain::ids()[3].node_id_hex();
    auto refuse = [&](const Ballot& b, const std::string& why) {
        Status s = verify_ballot(b, net.network_id, net.current());
        CHECK_MESSAGE(contains(s.message(), why), s.to_string());
    };
    refuse(make_ballot(RosterChain::ids()[5], net.network_id, net.current().epoch, ChangeKind::kAdmit, subject,
                       Decision::kApprove, "").value(),
           "not a member");
    refuse(make_ballot(RosterChain::ids()[0], net.network_id, net.current().epoch - 1, ChangeKind::kAdmit, subject,
                       Decision::kApprove, "").value(),
           "for epoch");
    refuse(make_ballot(RosterChain::ids()[0], net.network_id + 1, net.current().epoch, ChangeKind::kAdmit, subject,
                       Decision::kApprove, "").value(),
           "another network");
    refuse(net.ballot(1, ChangeKind::kBan, RosterChain::ids()[1].node_id_hex()), "vote on itself");
    refuse(net.ballot(0, ChangeKind::kAdmit, RosterChain::ids()[1].node_id_hex()), "a member or a banned node");
    refuse(net.ballot(0, ChangeKind::kBan, subject), "not a member");
    auto forged = net.ballot(0, ChangeKind::kAdmit, subject);
    forged.reason = "changed after signing";
    refuse(forged, "does not verify");
    auto stolen = net.ballot(0, ChangeKind::kAdmit, subject);
    stolen.voter = RosterChain::ids()[1].node_id_hex();  // claims another member's vote
    refuse(stolen, "does not verify");
}

TEST_CASE("hostile roster epochs are refused with a reason") {
    RosterChain net;
    net.admit(1, {0});
    net.admit(2, {0, 1});
    auto good = net.decide(ChangeKind::kAdmit, 3, {0, 1});
    REQUIRE(good.is_ok());
    auto refuse = [&](RosterEpoch e, const std::string& why, bool resign = true) {
        if (resign) e.signature = crypto::sign(*RosterChain::ids()[0].key, body_of(e)).value();
        Status s = verify_next(net.current(), e, net.network_id);
        CHECK_MESSAGE(contains(s.message(), why), s.to_string());
    };
    CHECK(verify_next(net.current(), *good, net.network_id).is_ok());

    auto e = *good;
    e.ballots.push_back(e.ballots.front());  // the same ballot twice
    refuse(e, "counted twice");
    e = *good;
    e.ballots.pop_back();
    refuse(e, "approvals");
    e = *good;
    e.epoch += 1;  // skips an epoch
    refuse(e, "does not follow");
    e = *good;
    e.prev_hash[0] ^= 1;
    refuse(e, "does not link");
    e = *good;
    e.settings.quorum = QuorumRule::kTwoThirds;
    refuse(e, "settings");
    e = *good;
    e.members.push_back(member_of(RosterChain::ids()[6], endpoint(6), "stowaway"));  // an extra member
    std::sort(e.members.begin(), e.members.end(), [](const Member& a, const Member& b) { return a.node_id < b.node_id; });
    refuse(e, "exactly this change");
    e = *good;
    std::swap(e.members.front(), e.members.back());
    refuse(e, "sorted");
    e = *good;
    e.revoked.push_back(RosterChain::ids()[0].node_id_hex());
    refuse(e, "exactly this change");
    e = *good;
    e.keys.pop_back();
    refuse(e, "sealed to exactly the members");
    e = *good;
    e.subject = RosterChain::ids()[4].node_id_hex();
    refuse(e, "not in the new roster");
    e = *good;
    for (auto& m : e.members)  // an existing member's entry rewritten
        if (m.node_id != e.subject) m.contact = "tampered";
    refuse(e, "exactly this change");
    e = *good;
    for (auto& m : e.members)  // the new member's entry changed after the assembler signed
        if (m.node_id == e.subject) m.contact = "tampered";
    refuse(e, "does not verify", false);
    e = *good;
    e.signature[5] ^= 1;
    refuse(e, "does not verify", false);
    e = *good;
    e.assembler = RosterChain::ids()[5].node_id_hex();
    refuse(e, "not assembled by one of its approvers");
}

TEST_CASE("hostile applications are refused") {
    RosterChain net;
    auto app = make_application(RosterChain::ids()[1], net.network_id, endpoint(1), "me", 100);
    REQUIRE(app.is_ok());
    CHECK(verify_application(*app, net.network_id, net.current()).is_ok());
    auto decoded = decode_application(encode(*app));
    REQUIRE(decoded.is_ok());
    CHECK(verify_application(*decoded, net.network_id, net.current()).is_ok());
    CHECK_FALSE(verify_application(*app, net.network_id + 1, net.current()).is_ok());  // another network
    auto forged = *app;
    forged.applicant.contact = "someone else";
    CHECK(contains(verify_application(forged, net.network_id, net.current()).message(), "does not verify"));
    auto swapped = *app;
    swapped.applicant.certificate = RosterChain::ids()[2].certificate->toString(false);
    CHECK(contains(verify_application(swapped, net.network_id, net.current()).message(), "another node's"));
    auto no_endpoint = make_application(RosterChain::ids()[1], net.network_id, {}, "me", 100);
    CHECK(contains(verify_application(*no_endpoint, net.network_id, net.current()).message(), "no endpoint"));
    net.admit(1, {0});
    CHECK(contains(verify_application(*app, net.network_id, net.current()).message(), "already a member"));
}

TEST_CASE("decoders refuse malformed documents") {
    RosterChain net;
    const std::string good = encode(net.current());
    CHECK(decode_roster_epoch(good).is_ok());
    CHECK_FALSE(decode_roster_epoch("").is_ok());
    CHECK_FALSE(decode_roster_epoch(good.substr(0, good.size() / 2)).is_ok());  // truncated
    CHECK_FALSE(decode_roster_epoch(std::string(100, '\xff')).is_ok());         // garbage
    CHECK_FALSE(decode_roster_epoch(std::string(kMaxDocumentBytes + 1, '\x90')).is_ok());  // oversized
    std::string wrong_version = good;
    wrong_version[1] = kRosterFormatVersion + 1;  // [version, ...]: the byte after the array header
    CHECK(contains(decode_roster_epoch(wrong_version).status().message(), "upgrade this node"));
    CHECK_FALSE(decode_ballot(good).is_ok());       // an epoch is not a ballot
    CHECK_FALSE(decode_application(good).is_ok());  // nor an application
    const std::string bomb = "\x93\x02\xc6\xff\xff\xff\xff";  // bin claiming 4 GiB
    CHECK_FALSE(decode_roster_epoch(bomb).is_ok());
}

TEST_CASE("roster decoders refuse trailing bytes: one document, one encoding") {
    RosterChain net;
    const std::string epoch = encode(net.current());
    const std::string app = encode(make_application(RosterChain::ids()[1], net.network_id, endpoint(1), "me", 100).value());
    const std::string ballot =
        encode(make_ballot(RosterChain::ids()[0], net.network_id, 0, ChangeKind::kAdmit, RosterChain::ids()[1].node_id_hex(),
                           Decision::kApprove, "")
                   .value());
    REQUIRE(decode_roster_epoch(epoch).is_ok());
    REQUIRE(decode_application(app).is_ok());
    REQUIRE(decode_ballot(ballot).is_ok());
    CHECK(contains(decode_roster_epoch(epoch + '\0').status().message(), "trailing"));
    CHECK(contains(decode_application(app + "\xc0").status().message(), "trailing"));
    CHECK(contains(decode_ballot(ballot + ballot).status().message(), "trailing"));
    const std::string list = encode_epoch_list({epoch});
    REQUIRE(decode_epoch_list(list).is_ok());
    CHECK(contains(decode_epoch_list(list + '\0').status().message(), "trailing"));
}

namespace {

std::string fake_node_id(size_t i) {
    char buf[41];
    std::snprintf(buf, sizeof buf, "%040zx", i);
    return buf;
}

}  // namespace

TEST_CASE("a roster of the most members, with RSA-3072 certificates and a two-thirds quorum, fits its document") {
    // Sizes, not signatures, are what this measures: one real RSA-3072
    // member, ballot and sealed key, copied to the bound.
    test::TempDir dir;
    auto id = crypto::load_or_create_identity(dir / "id3072", 3072);
    REQUIRE(id.is_ok());
    RosterChain n(QuorumRule::kTwoThirds);
    RosterEpoch full = n.current();
    const Member real = member_of(*id, {"[2001:db8::1]:4222", "192.0.2.1:4222"}, "operator@node.example.org",
                                  MemberAdvert{{"node.example.org:5222"}, 1024});
    full.members.clear();
    full.keys.clear();
    for (size_t i = 0; i < kMaxMembers; ++i) {
        Member m = real;
        m.node_id = fake_node_id(i);
        full.members.push_back(m);
        full.keys.push_back({m.node_id, std::string(3072 / 8, 'k')});
    }
    auto ballot = make_ballot(*id, n.network_id, 1, ChangeKind::kAdmit, fake_node_id(0), Decision::kApprove,
                              "known operator");
    REQUIRE(ballot.is_ok());
    full.ballots.assign(approvals_needed(QuorumRule::kTwoThirds, kMaxMembers - 1), *ballot);
    full.signature = std::string(3072 / 8, 's');
    const std::string bytes = encode(full);
    MESSAGE("an epoch of " << kMaxMembers << " members: " << bytes.size() / 1024 << " KiB");
    CHECK(bytes.size() < kMaxDocumentBytes * 3 / 5);  // room for longer adverts and contacts
    auto decoded = decode_roster_epoch(bytes);
    REQUIRE_MESSAGE(decoded.is_ok(), decoded.status().to_string());
    CHECK(decoded->members.size() == kMaxMembers);
}

TEST_CASE("no document is made beyond what decoders accept: the roster's room is checked first") {
    RosterChain n;
    n.admit(1, {0});
    const std::string third = RosterChain::ids()[2].node_id_hex();
    SUBCASE("a full roster admits no one") {
        RosterEpoch full = n.current();
        for (size_t i = 0; full.members.size() < kMaxMembers; ++i) {
            Member m = full.members.back();
            m.node_id = fake_node_id(i);
            full.members.push_back(m);
        }
        std::sort(full.members.begin(), full.members.end(),
                  [](const Member& a, const Member& b) { return a.node_id < b.node_id; });
        n.chain.back() = full;
        auto app = make_application(RosterChain::ids()[2], n.network_id, endpoint(2), "op2", 1);
        REQUIRE(app);
        auto refused = verify_application(*app, n.network_id, full);
        CHECK(refused.code() == Code::kResourceExhausted);
        CHECK(contains(refused.message(), "full"));
        CHECK(verify_ballot(n.ballot(0, ChangeKind::kAdmit, third), n.network_id, full).code() ==
              Code::kResourceExhausted);
        auto next = n.decide(ChangeKind::kAdmit, 2, {0, 1});  // an epoch past the bound, which no node decodes
        REQUIRE_FALSE(next);
        CHECK(contains(next.status().message(), "full"));
    }
    SUBCASE("a roster that lists the most bans bans no one more") {
        RosterEpoch full = n.current();
        for (size_t i = 0; full.revoked.size() < kMaxRevoked; ++i) full.revoked.push_back(fake_node_id(i));
        std::sort(full.revoked.begin(), full.revoked.end());
        n.chain.back() = full;
        const std::string second = RosterChain::ids()[1].node_id_hex();
        CHECK(verify_ballot(n.ballot(0, ChangeKind::kBan, second), n.network_id, full).code() ==
              Code::kResourceExhausted);
        auto next = n.decide(ChangeKind::kBan, 1, {0});
        REQUIRE_FALSE(next);
        CHECK(contains(next.status().message(), "banned"));
    }
    SUBCASE("fields a decoder refuses are refused where the document is made") {
        auto app = make_application(RosterChain::ids()[2], n.network_id, endpoint(2), std::string(kMaxTextBytes + 1, 'c'), 1);
        REQUIRE_FALSE(app);
        CHECK(contains(app.status().message(), "bounds"));
        auto ballot = make_ballot(RosterChain::ids()[0], n.network_id, n.current().epoch, ChangeKind::kAdmit, third,
                                  Decision::kReject, std::string(kMaxTextBytes + 1, 'r'));
        CHECK_FALSE(ballot);
    }
}

TEST_CASE("an application whose key has an absurd RSA exponent is refused before its signature is checked") {
    RosterChain n;
    auto key = std::make_shared<dht::crypto::PrivateKey>(dht::crypto::PrivateKey(std::string_view(test::kHugeExponentKeyPem)));
    auto cert = std::make_shared<dht::crypto::Certificate>(dht::crypto::Certificate::generate(*key, "hostile", {}, true));
    const crypto::NodeIdentity hostile{key, cert, nullptr, {}};  // refused before its fast key is looked at
    auto app = make_application(hostile, n.network_id, endpoint(5), "op5", 1);
    REQUIRE(app);
    auto refused = verify_application(*app, n.network_id, n.current());
    CHECK(refused.code() == Code::kInvalidArgument);
    CHECK(contains(refused.message(), "exponent"));
}
