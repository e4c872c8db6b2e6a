#pragma once
// Bus: the roster vote state machines (RosterVote) of several nodes, connected by an
// in-memory bus that delivers every document to every node at once, the way
// the peer service relays them. Used by the membership and trust simulation
// tests; deterministic apart from the keys it generates.

#include <map>

#include "crypto/aead.h"
#include "node/trust/roster_vote.h"
#include "node/trust/roster_builder.h"
#include "testing/test_util.h"

#include "tests/doctest.h"

namespace dhtalk::test {

// The wall clock the bus's applications are judged at (they are dated 1).
inline constexpr int64_t kNow = 2;

inline const std::vector<crypto::NodeIdentity>& ids() {
    static test::TempDir dir;
    static const std::vector<crypto::NodeIdentity> v = [] {
        std::vector<crypto::NodeIdentity> out;
        for (int i = 0; i < 6; ++i) out.push_back(crypto::load_or_create_identity(dir / std::to_string(i), 2048).value());
        return out;
    }();
    return v;
}

// Every node's RosterVote, and delivery of documents to all of them, the way
// the node's peer service will broadcast them.
struct Bus {
    Bus() {
        auto g = make_genesis(ids()[0], {"bus-net", QuorumRule::kMajority, "kontalk-sha1"}, {"127.0.0.1:1"}, "zero",
                              crypto::random_key());
        REQUIRE(g.is_ok());
        genesis = *g;
        chain.push_back(genesis);
        join(0);
    }
    // A node that knows the chain so far (as fetched from any member).
    void join(int i) {
        auto m = RosterVote::create(chain, ids()[i]);
        REQUIRE(m.is_ok());
        nodes.emplace(i, std::move(m).value());
    }
    RosterVote& at(int i) { return nodes.at(i); }

    void apply(int i) {
        join(i);
        auto a = make_application(ids()[i], at(i).network_id(), {"127.0.0.1:" + std::to_string(100 + i)},
                                  "operator " + std::to_string(i), 1);
        REQUIRE(a.is_ok());
        for (auto& [n, m] : nodes)
            if (n != i) CHECK(m.offer_application(*a, kNow).is_ok());
    }
    void vote(int voter, ChangeKind change, int subject, Decision d = Decision::kApprove) {
        auto b = at(voter).cast(change, ids()[subject].node_id_hex(), d, "test");
        REQUIRE_MESSAGE(b.is_ok(), b.status().to_string());
        for (auto& [n, m] : nodes)
            if (n != voter) m.offer_ballot(*b).ignore_error();  // non-members refuse; fine
        // Any member that sees the quorum assembles; the first one wins here.
        for (auto& [n, m] : nodes) {
            auto next = m.assemble(crypto::random_key());
            if (!next) continue;
            REQUIRE_MESSAGE(next->is_ok(), next->status().to_string());
            for (auto& [k, other] : nodes) CHECK(other.offer_epoch(**next).is_ok());
            chain.push_back(**next);
            break;
        }
    }

    RosterEpoch genesis;
    std::vector<RosterEpoch> chain;  // as the network adopted it (a RosterVote holds only its head)
    std::map<int, RosterVote> nodes;
};

// Nodes 0 and 1 are members; node 2 applies and both approve it, so that
// either may assemble its admission.
inline void both_approve_node_2(Bus& bus) {
    bus.apply(1);
    bus.vote(0, ChangeKind::kAdmit, 1);
    bus.apply(2);
    for (int voter : {0, 1}) {
        auto b = bus.at(voter).cast(ChangeKind::kAdmit, ids()[2].node_id_hex(), Decision::kApprove, "");
        REQUIRE(b.is_ok());
        for (auto& [n, m] : bus.nodes)
            if (n != voter) m.offer_ballot(*b).ignore_error();
    }
}

// Node 2's admission assembled by node 0 and by node 1 at once: two valid
// rivals of one epoch, built on `base`. Adopted by nobody yet.
struct Rivals {
    RosterEpoch base, low, high;  // `low` has the lower hash
};
inline Rivals rival_admissions(Bus& bus) {
    both_approve_node_2(bus);
    Rivals r;
    r.base = bus.at(0).current();
    auto e0 = bus.at(0).assemble(crypto::random_key(), true);
    auto e1 = bus.at(1).assemble(crypto::random_key(), true);
    REQUIRE((e0 && *e0 && e1 && *e1));
    const bool zero_lower = hash_of(**e0) < hash_of(**e1);
    r.low = zero_lower ? **e0 : **e1;
    r.high = zero_lower ? **e1 : **e0;
    return r;
}

// Node 3's admission on `on`, assembled by node `assembler` (0 or 1) with
// `key`. Nodes 0 and 1 approve it by the epoch's number, not its hash, so
// the same ballots serve on either rival.
inline RosterEpoch admit_three_on(const RosterEpoch& on, int assembler, const crypto::AeadKey& key) {
    const Member three = member_of(ids()[3], {"127.0.0.1:103"}, "operator 3");
    std::vector<Ballot> approvals;
    for (int voter : {0, 1})
        approvals.push_back(
            make_ballot(ids()[voter], on.network_id, on.epoch, ChangeKind::kAdmit, three.node_id, Decision::kApprove, "")
                .value());
    auto next = assemble_next(on, on.network_id, ChangeKind::kAdmit, three.node_id, &three, approvals, ids()[assembler], key);
    REQUIRE(next);
    return *next;
}


}  // namespace dhtalk::test
