// The issuance audit between members over the real peer transport (HTTP on
// loopback): each member's ledger holds part of the issuance logs, the
// audit unions them and counts per issuer and day; members that cannot be
// asked are named; requests from non-members and answers their claimed
// sender did not sign are refused; malformed messages are refused.
#include "crypto/node_identity.h"
#include "crypto/signing.h"
#include "dht/issuance_log.h"
#include "node/front/audit_service.h"
#include "storage/memory_store.h"
#include "testing/test_util.h"

#include "tests/doctest.h"

using namespace dhtalk;
using namespace std::chrono;

namespace {

constexpr uint32_t kAuditNetwork = 91;

struct AuditMember {
    AuditMember(const test::TempDir& dir, const std::string& name)
        : identity(crypto::load_or_create_identity(dir / name, 2048).value()) {
        audit = std::make_unique<AuditService>(kAuditNetwork, identity, ledger, clock, tcp_peer_net());
        peers = PeerService::start(tcp_peer_net(), "127.0.0.1", 0, clock).value();
        peers->attach_audit(audit.get());
    }
    ~AuditMember() { peers->stop(); }
    InboxPeer peer() const {
        return {identity.node_id_hex(), "127.0.0.1:" + std::to_string(peers->port()), identity.fast_public, true};
    }

    SystemClock clock;
    MemoryStore store;
    IssuanceLedger ledger{store};
    crypto::NodeIdentity identity;
    std::unique_ptr<AuditService> audit;
    std::unique_ptr<PeerService> peers;
};

// An issuance as a ledger keeps it: only these fields count.
IssuedCertificate issued(const std::string& issuer, const std::string& user, uint64_t certificate, int64_t at_s) {
    IssuedCertificate c;
    c.info.issuer_node_id = issuer;
    c.info.user_id = user;
    c.info.not_before_s = at_s;
    c.id = certificate;
    return c;
}

const AuditCount* count_of(const AuditReport& r, const std::string& issuer) {
    for (const auto& c : r.counts)
        if (c.issuer == issuer) return &c;
    return nullptr;
}

}  // namespace

TEST_CASE("an audit unions every member's ledger and counts certificates and users per issuer and day") {
    test::TempDir dir;
    AuditMember a(dir, "a"), b(dir, "b"), c(dir, "c");
    std::vector<InboxPeer> members{a.peer(), b.peer(), c.peer()};
    for (AuditMember* m : {&a, &b, &c}) m->audit->attach_members([&] { return members; });
    const std::string x = a.identity.node_id_hex(), y = b.identity.node_id_hex();
    const int64_t now = to_unix_seconds(a.clock.wall_now());
    const std::string alice(40, 'a'), bob(40, 'b'), carol(40, 'c');
    // Each entry is stored by several members; alice registered twice with x.
    REQUIRE(a.ledger.record(issued(x, alice, 1, now)));
    REQUIRE(a.ledger.record(issued(x, bob, 2, now)));
    REQUIRE(b.ledger.record(issued(x, alice, 1, now)));
    REQUIRE(b.ledger.record(issued(x, alice, 3, now)));
    REQUIRE(c.ledger.record(issued(y, carol, 4, now)));
    REQUIRE(c.ledger.record(issued(y, carol, 5, now - 40 * 86400)));  // before the days asked

    const AuditReport report = a.audit->gather(7);
    CHECK(report.members_asked == 3);
    CHECK(report.unanswered.empty());
    REQUIRE(report.counts.size() == 2);
    const AuditCount* by_x = count_of(report, x);
    REQUIRE(by_x);
    CHECK(by_x->certificates == 3);
    CHECK(by_x->users == 2);
    CHECK(by_x->day == day_of(now));
    const AuditCount* by_y = count_of(report, y);
    REQUIRE(by_y);
    CHECK(by_y->certificates == 1);
    CHECK(by_y->users == 1);

    SUBCASE("a member declared dead, one that cannot be reached, and one whose answer another key signed are named") {
        members[2].alive = false;
        members[1].fast_key = c.identity.fast_public;
        members.push_back({std::string(40, 'd'), "127.0.0.1:1", c.identity.fast_public, true});
        const AuditReport partial = a.audit->gather(7);
        CHECK(partial.members_asked == 4);
        REQUIRE(partial.unanswered.size() == 3);
        CHECK(partial.unanswered[0].find("did not sign") != std::string::npos);
        CHECK(partial.unanswered[1].find("dead") != std::string::npos);
        CHECK(partial.unanswered[2].find("did not answer") != std::string::npos);
        // What a's own ledger holds still counts.
        REQUIRE(count_of(partial, x));
        CHECK(count_of(partial, x)->certificates == 2);
    }
}

TEST_CASE("an audit request from a non-member, for another node or network, or replayed late is refused") {
    test::TempDir dir;
    AuditMember a(dir, "a"), outsider(dir, "o");
    a.audit->attach_members([&] { return std::vector<InboxPeer>{a.peer()}; });
    auto request = [&](const crypto::NodeIdentity& from, const std::string& to, uint32_t network, int64_t sent_ms) {
        AuditRequest r{network, from.node_id_hex(), to, sent_ms, 0, {}};
        r.signature = crypto::sign(*from.fast_key, body_of(r)).value();
        return encode(r);
    };
    const int64_t now_ms = to_unix_millis(a.clock.wall_now());
    const std::string self = a.identity.node_id_hex();
    CHECK(a.audit->on_audit_request(request(a.identity, self, kAuditNetwork, now_ms)));
    CHECK(a.audit->on_audit_request(request(outsider.identity, self, kAuditNetwork, now_ms)).status().code() ==
          Code::kPermissionDenied);
    CHECK_FALSE(a.audit->on_audit_request(request(a.identity, std::string(40, 'e'), kAuditNetwork, now_ms)));
    CHECK_FALSE(a.audit->on_audit_request(request(a.identity, self, kAuditNetwork + 1, now_ms)));
    CHECK_FALSE(a.audit->on_audit_request(request(a.identity, self, kAuditNetwork, now_ms - 3'600'000)));
    // Signed by a member, but altered on the way.
    std::string altered = request(a.identity, self, kAuditNetwork, now_ms);
    altered[altered.size() / 2] ^= 0x01;
    CHECK_FALSE(a.audit->on_audit_request(altered));
}

TEST_CASE("audit messages round-trip and refuse malformed input") {
    AuditRequest r{7, std::string(40, 'a'), std::string(40, 'b'), 5, 20000, std::string(64, 's')};
    auto back = decode_audit_request(encode(r)).value();
    CHECK(back.first_day == 20000);
    CHECK(back.signature == r.signature);
    AuditAnswer a{7, std::string(40, 'b'), std::string(32, 'd'), true,
                  {{20000, std::string(40, 'c'), std::string(40, 'e'), 42}, {20000, std::string(40, 'c'), "", 0}},
                  std::string(64, 's')};
    auto answer = decode_audit_answer(encode(a)).value();
    REQUIRE(answer.entries.size() == 2);
    CHECK(answer.entries[0].certificate == 42);
    CHECK(answer.truncated);
    CHECK_FALSE(decode_audit_request(""));
    CHECK_FALSE(decode_audit_request(encode(a)));
    CHECK_FALSE(decode_audit_answer(encode(r)));
    AuditAnswer bad = a;
    bad.entries[0].issuer = "not-hex!";
    CHECK_FALSE(decode_audit_answer(encode(bad)));
    CHECK_FALSE(decode_audit_request(std::string(kMaxAuditRequestBytes + 1, '\x90')));
}
