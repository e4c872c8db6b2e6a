// The roster vote state machine (RosterVote) of several nodes, connected by a simple
// in-memory bus: founding, admission of four nodes one by one by quorum, a
// ban, convergence of every member on the same epoch, catch-up of a member
// that missed two epochs, and the voting rules.
#include "crypto/signing.h"
#include "node/trust/roster_vote.h"
#include "node/trust/roster_builder.h"
#include "roster/roster_rules.h"
#include "tests/roster_bus.h"
#include "testing/test_util.h"

#include "tests/doctest.h"

using namespace dhtalk;

namespace {

using test::Bus;
using test::both_approve_node_2;
using test::ids;

std::string head_hash(const RosterVote& m) { return hash_of(m.current()); }

}  // namespace

TEST_CASE("found, admit four nodes one by one, ban one: every node converges") {
    Bus bus;
    bus.apply(1);
    bus.vote(0, ChangeKind::kAdmit, 1);  // 1 of 1
    CHECK(bus.at(1).is_member());
    bus.apply(2);
    bus.vote(0, ChangeKind::kAdmit, 2);
    CHECK_FALSE(bus.at(2).is_member());  // 1 of 2 is not a majority
    bus.vote(1, ChangeKind::kAdmit, 2);
    CHECK(bus.at(2).is_member());
    bus.apply(3);
    bus.vote(2, ChangeKind::kAdmit, 3);
    bus.vote(0, ChangeKind::kAdmit, 3);  // 2 of 3
    bus.apply(4);
    bus.vote(3, ChangeKind::kAdmit, 4);
    bus.vote(1, ChangeKind::kAdmit, 4);
    bus.vote(0, ChangeKind::kAdmit, 4);  // 3 of 4
    CHECK(bus.at(0).current().members.size() == 5);
    CHECK(bus.at(0).current().epoch == 4);

    // Ban node 2: 4 eligible, 3 needed; node 2 cannot vote on it.
    CHECK_FALSE(bus.at(2).cast(ChangeKind::kBan, ids()[2].node_id_hex(), Decision::kApprove, "").is_ok());
    bus.vote(0, ChangeKind::kBan, 2);
    bus.vote(4, ChangeKind::kBan, 2);
    auto proposals = bus.at(1).proposals();
    REQUIRE(proposals.size() == 1);
    CHECK(proposals[0].approvals.size() == 2);
    CHECK(proposals[0].needed == 3);
    bus.vote(3, ChangeKind::kBan, 2);
    CHECK(bus.at(0).current().epoch == 5);
    CHECK_FALSE(bus.at(2).is_member());
    CHECK(open_epoch_key(bus.at(2).current(), ids()[2]).status().code() == Code::kNotFound);
    for (int i : {0, 1, 3, 4}) {
        CAPTURE(i);
        CHECK(head_hash(bus.at(i)) == head_hash(bus.at(0)));
        CHECK(bus.at(i).is_member());
        CHECK(open_epoch_key(bus.at(i).current(), ids()[i]).is_ok());
    }
    // The banned node's ballots are refused from now on.
    auto b = make_ballot(ids()[2], bus.at(0).network_id(), bus.at(0).current().epoch, ChangeKind::kBan,
                         ids()[1].node_id_hex(), Decision::kApprove, "revenge");
    CHECK(bus.at(0).offer_ballot(*b).message().find("not a member") != std::string::npos);
}

TEST_CASE("a member offline during two epoch changes catches up from the chain") {
    Bus bus;
    bus.apply(1);
    bus.vote(0, ChangeKind::kAdmit, 1);
    bus.apply(2);
    bus.vote(0, ChangeKind::kAdmit, 2);  // 1 of 2: node 1's vote is needed
    bus.vote(1, ChangeKind::kAdmit, 2);  // epoch 2: members 0, 1, 2
    const auto stale = bus.chain;
    bus.nodes.erase(1);
    bus.apply(3);
    bus.vote(0, ChangeKind::kAdmit, 3);
    bus.vote(2, ChangeKind::kAdmit, 3);  // 2 of 3: epoch 3
    bus.apply(4);
    bus.vote(0, ChangeKind::kAdmit, 4);
    bus.vote(2, ChangeKind::kAdmit, 4);
    bus.vote(3, ChangeKind::kAdmit, 4);  // 3 of 4: epoch 4
    REQUIRE(bus.at(0).current().epoch == 4);

    // Node 1 returns at epoch 2 and is given the epochs it missed, in order.
    auto late = RosterVote::create(stale, ids()[1]);
    REQUIRE(late.is_ok());
    CHECK(late->current().epoch == 2);
    CHECK_FALSE(late->offer_epoch(bus.chain[4]).is_ok());  // cannot skip epoch 3
    for (size_t e = 3; e < bus.chain.size(); ++e) REQUIRE(late->offer_epoch(bus.chain[e]).is_ok());
    CHECK(head_hash(*late) == head_hash(bus.at(0)));
    CHECK(open_epoch_key(late->current(), ids()[1]).is_ok());
    REQUIRE(late->previous());
    CHECK(hash_of(*late->previous()) == hash_of(bus.chain[3]));
}

TEST_CASE("voting rules: one approval per epoch, applications first, no repeats") {
    Bus bus;
    bus.apply(1);
    bus.vote(0, ChangeKind::kAdmit, 1);
    bus.apply(2);
    bus.apply(3);
    REQUIRE(bus.at(0).cast(ChangeKind::kAdmit, ids()[2].node_id_hex(), Decision::kApprove, "").is_ok());
    auto second = bus.at(0).cast(ChangeKind::kAdmit, ids()[3].node_id_hex(), Decision::kApprove, "");
    CHECK(second.status().message().find("already approved another change") != std::string::npos);
    CHECK(bus.at(0).cast(ChangeKind::kAdmit, ids()[3].node_id_hex(), Decision::kReject, "no").is_ok());  // rejecting is fine
    CHECK(bus.at(0).cast(ChangeKind::kAdmit, ids()[5].node_id_hex(), Decision::kApprove, "").status().code() ==
          Code::kNotFound);  // never applied
    CHECK_FALSE(bus.at(2).cast(ChangeKind::kAdmit, ids()[3].node_id_hex(), Decision::kApprove, "").is_ok());  // not a member

    // The same ballot twice is a harmless repeat; an application replayed is too.
    const auto ballots = bus.at(0).ballots();
    CHECK(bus.at(1).offer_ballot(ballots.front()).is_ok());
    CHECK(bus.at(1).offer_ballot(ballots.front()).code() == Code::kAlreadyExists);
    const auto app = bus.at(0).applications().begin()->second;
    CHECK(bus.at(1).offer_application(app, test::kNow).code() == Code::kAlreadyExists);
    // An old epoch offered again is not adopted twice.
    CHECK(bus.at(1).offer_epoch(bus.chain[1]).code() == Code::kAlreadyExists);
}

TEST_CASE("two members assembling the same change at once converge on the lower hash") {
    Bus bus;
    both_approve_node_2(bus);
    // Only the approver with the lower node id assembles unless asked to fall back.
    const int preferred = ids()[0].node_id_hex() < ids()[1].node_id_hex() ? 0 : 1;
    CHECK(bus.at(preferred).assemble(crypto::random_key()).has_value());
    CHECK_FALSE(bus.at(1 - preferred).assemble(crypto::random_key()).has_value());
    auto e0 = bus.at(0).assemble(crypto::random_key(), true);
    auto e1 = bus.at(1).assemble(crypto::random_key(), true);
    REQUIRE((e0 && *e0 && e1 && *e1));
    CHECK(hash_of(**e0) != hash_of(**e1));
    // Each adopts its own first, then hears of the other's.
    REQUIRE(bus.at(0).offer_epoch(**e0).is_ok());
    REQUIRE(bus.at(1).offer_epoch(**e1).is_ok());
    bus.at(0).offer_epoch(**e1).ignore_error();
    bus.at(1).offer_epoch(**e0).ignore_error();
    for (auto* e : {&**e0, &**e1}) bus.at(2).offer_epoch(*e).ignore_error();
    CHECK(head_hash(bus.at(0)) == head_hash(bus.at(1)));
    CHECK(head_hash(bus.at(2)) == head_hash(bus.at(0)));
    CHECK(head_hash(bus.at(0)) == std::min(hash_of(**e0), hash_of(**e1)));
    CHECK(bus.at(2).is_member());
}

TEST_CASE("an epoch that seals one member another key is refused by that member, loudly, and by no one else") {
    test::Bus bus;
    bus.apply(1);
    bus.vote(0, ChangeKind::kAdmit, 1);
    bus.apply(2);
    const RosterEpoch prev = bus.at(0).current();
    // Node 0 assembles node 2's admission, but seals node 1 a key of its own
    // choosing, and signs the result: the epoch still verifies.
    auto b0 = bus.at(0).cast(ChangeKind::kAdmit, test::ids()[2].node_id_hex(), Decision::kApprove, "t");
    auto b1 = bus.at(1).cast(ChangeKind::kAdmit, test::ids()[2].node_id_hex(), Decision::kApprove, "t");
    REQUIRE(b0);
    REQUIRE(b1);
    const Member two = member_of(test::ids()[2], {"127.0.0.1:102"}, "operator 2");
    auto next = assemble_next(prev, bus.at(0).network_id(), ChangeKind::kAdmit, two.node_id, &two, {*b0, *b1},
                              test::ids()[0], crypto::random_key());
    REQUIRE(next);
    const crypto::AeadKey other = crypto::random_key();
    for (auto& k : next->keys)
        if (k.node_id == test::ids()[1].node_id_hex())
            k.sealed = crypto::seal_to(*test::ids()[1].certificate,
                                       std::string_view(reinterpret_cast<const char*>(other.data()), other.size()))
                           .value();
    next->signature = crypto::sign(*test::ids()[0].key, body_of(*next)).value();
    REQUIRE(verify_next(prev, *next, bus.at(0).network_id()));

    auto refused = bus.at(1).offer_epoch(*next);
    CHECK(refused.code() == Code::kCorruption);
    CHECK(refused.message().find("not the key the epoch commits to") != std::string::npos);
    CHECK(bus.at(1).current().epoch == prev.epoch);  // node 1 stays where it can still talk
    CHECK(bus.at(0).offer_epoch(*next));             // the others cannot tell
    CHECK(open_epoch_key(*next, test::ids()[1]).status().code() == Code::kCorruption);
    CHECK(open_epoch_key(*next, test::ids()[0]));
}

TEST_CASE("roster documents of the format before the key commitment are refused with a clear error") {
    test::Bus bus;
    std::string doc = encode(bus.genesis);
    REQUIRE(doc[1] == static_cast<char>(kRosterFormatVersion));  // [fixarray 3, version, ...]
    doc[1] = 1;
    auto old = decode_roster_epoch(doc);
    REQUIRE_FALSE(old);
    CHECK(old.status().message().find("format version 1") != std::string::npos);
    CHECK(old.status().message().find("founded again") != std::string::npos);
}

TEST_CASE("a settled epoch takes no rival, and a node left on a losing rival takes the branch the network went on from") {
    Bus bus;
    const auto [base, low, high] = test::rival_admissions(bus);
    REQUIRE(bus.at(0).offer_epoch(low));
    REQUIRE(bus.at(1).offer_epoch(high));
    // Node 1's epoch is settled: the lower rival comes too late.
    auto late = bus.at(1).offer_epoch(low, /*accept_rival*/ false);
    CHECK(late.code() == Code::kAlreadyExists);
    CHECK(late.message().find("settled") != std::string::npos);
    CHECK(hash_of(bus.at(1).current()) == hash_of(high));

    // The network goes on from `low`: node 3 is admitted.
    const auto after = test::admit_three_on(low, 0, crypto::random_key());
    CHECK_FALSE(bus.at(1).offer_epoch(after));  // it does not link to node 1's epoch: a split, before
    CHECK(bus.at(1).offer_branch(base, high, {high, after}).code() == Code::kAlreadyExists);  // its own: no branch
    RosterEpoch forged = low;
    forged.signature = "not a signature";
    CHECK_FALSE(bus.at(1).offer_branch(base, high, {forged, after}));
    REQUIRE(bus.at(1).offer_branch(base, high, {low, after}));
    CHECK(hash_of(bus.at(1).current()) == hash_of(after));
    REQUIRE(bus.at(1).previous());
    CHECK(hash_of(*bus.at(1).previous()) == hash_of(low));
}

TEST_CASE("two branches of the same length that parted one epoch back: every node keeps the one that parted lower") {
    Bus bus;
    const auto [base, low, high] = test::rival_admissions(bus);
    // Node 3's admission, approved by number, is built on each rival: the
    // same ballots serve both.
    const auto on_low = test::admit_three_on(low, 0, crypto::random_key());
    const auto on_high = test::admit_three_on(high, 1, crypto::random_key());
    REQUIRE(bus.at(0).offer_epoch(low));
    REQUIRE(bus.at(0).offer_epoch(on_low));
    REQUIRE(bus.at(1).offer_epoch(high));
    REQUIRE(bus.at(1).offer_epoch(on_high));
    // Each refuses the other's head: it does not link to its own epoch.
    CHECK_FALSE(bus.at(1).offer_epoch(on_low));
    CHECK_FALSE(bus.at(0).offer_epoch(on_high));

    // The node on the lower branch keeps it.
    CHECK(bus.at(0).offer_branch(base, low, {high, on_high}).code() == Code::kAlreadyExists);
    CHECK(hash_of(bus.at(0).current()) == hash_of(on_low));
    // Bad offers change nothing: shorter, not from the base, forged.
    CHECK(bus.at(1).offer_branch(base, high, {low}).code() == Code::kAlreadyExists);
    CHECK(bus.at(1).offer_branch(low, high, {on_low}).code() == Code::kAlreadyExists);
    RosterEpoch forged = on_low;
    forged.signature = "not a signature";
    CHECK_FALSE(bus.at(1).offer_branch(base, high, {low, forged}));
    CHECK(hash_of(bus.at(1).current()) == hash_of(on_high));
    // The node on the higher branch leaves it for the lower.
    REQUIRE(bus.at(1).offer_branch(base, high, {low, on_low}));
    CHECK(hash_of(bus.at(1).current()) == hash_of(on_low));
    REQUIRE(bus.at(1).previous());
    CHECK(hash_of(*bus.at(1).previous()) == hash_of(low));
}

TEST_CASE("an application is held once: a repeat is not news, a changed one replaces it at most once a minute") {
    Bus bus;
    auto& m = bus.at(0);
    const auto& applicant = ids()[1];
    auto made = [&](const std::string& contact, int64_t at) {
        return make_application(applicant, m.network_id(), {"127.0.0.1:101"}, contact, at).value();
    };
    const int64_t now = 1'000'000;
    REQUIRE(m.offer_application(made("op", now - 100), now).is_ok());
    // The applicant re-applies every period with a new date: held already.
    CHECK(m.offer_application(made("op", now - 97), now).code() == Code::kAlreadyExists);
    CHECK(m.offer_application(made("new contact", now - 70), now).code() == Code::kAlreadyExists);  // too soon
    REQUIRE(m.offer_application(made("new contact", now - 39), now).is_ok());
    CHECK(m.applications().at(applicant.node_id_hex()).applicant.contact == "new contact");
}

TEST_CASE("applications expire a week after they were made, and none may be dated ahead") {
    Bus bus;
    auto& m = bus.at(0);
    const int64_t now = 1'000'000;
    auto made = [&](int i, int64_t at) {
        return make_application(ids()[i], m.network_id(), {"127.0.0.1:101"}, "op", at).value();
    };
    CHECK(m.offer_application(made(1, now - kApplicationLifetimeS), now).message().find("expired") != std::string::npos);
    CHECK(m.offer_application(made(1, now + kApplicationSkewS + 1), now).message().find("future") != std::string::npos);
    REQUIRE(m.offer_application(made(1, now), now).is_ok());
    REQUIRE(m.offer_application(made(2, now + 100), now).is_ok());
    CHECK(m.expire_applications(now + kApplicationLifetimeS - 1).empty());
    CHECK(m.expire_applications(now + kApplicationLifetimeS) == std::vector<std::string>{ids()[1].node_id_hex()});
    CHECK(m.applications().size() == 1);
}

TEST_CASE("a quorum of rejections dismisses an application for the rest of the epoch") {
    Bus bus;
    bus.apply(1);
    bus.vote(0, ChangeKind::kAdmit, 1);
    bus.apply(2);
    bus.vote(0, ChangeKind::kAdmit, 2);
    bus.vote(1, ChangeKind::kAdmit, 2);  // members 0, 1, 2: two of three decide
    bus.apply(3);
    const auto app = bus.at(0).applications().at(ids()[3].node_id_hex());
    bus.vote(0, ChangeKind::kAdmit, 3, Decision::kReject);
    CHECK(bus.at(2).applications().count(ids()[3].node_id_hex()) == 1);  // one rejection is not enough
    bus.vote(1, ChangeKind::kAdmit, 3, Decision::kReject);
    for (int i : {0, 1, 2}) {
        CAPTURE(i);
        CHECK(bus.at(i).applications().empty());
        CHECK(bus.at(i).dismissed(ids()[3].node_id_hex()));
        CHECK(bus.at(i).offer_application(app, test::kNow).code() == Code::kPermissionDenied);  // re-applying is no use
        CHECK(bus.at(i).proposals().empty());
    }
    bus.apply(4);
    bus.vote(0, ChangeKind::kAdmit, 4);
    bus.vote(2, ChangeKind::kAdmit, 4);  // a new epoch: node 3 may try again
    CHECK(bus.at(0).offer_application(app, test::kNow).is_ok());
}
