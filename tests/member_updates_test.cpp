// Members' adverts: client endpoints and media offers in the roster, the
// updates a member signs alone when they change (and every forgery or stale
// one refused), the load lines nodes tell clients, and how a busy node
// picks the member it sends a login to.
#include <map>

#include "crypto/aead.h"
#include "net/member_load.h"
#include "node/front/load_spread.h"
#include "node/trust/member_updates.h"
#include "node/trust/roster_builder.h"
#include "roster/roster_rules.h"
#include "storage/memory_store.h"
#include "testing/test_util.h"

#include "tests/doctest.h"

using namespace dhtalk;
using test::contains;

namespace {

const std::vector<crypto::NodeIdentity>& endpoint_ids() {
    static test::TempDir dir;
    static const std::vector<crypto::NodeIdentity> v = [] {
        std::vector<crypto::NodeIdentity> out;
        for (int i = 0; i < 3; ++i) out.push_back(crypto::load_or_create_identity(dir / std::to_string(i), 2048).value());
        return out;
    }();
    return v;
}

// Members 0 and 1 (1 admitted by 0's vote); 2 stays outside.
struct TwoMembers {
    TwoMembers() {
        auto g = make_genesis(endpoint_ids()[0], {"endpoints-net", QuorumRule::kMajority, "kontalk-sha1"}, {"127.0.0.1:1"},
                              "zero", crypto::random_key(), {{"127.0.0.1:4223"}, 64});
        REQUIRE(g.is_ok());
        network_id = network_id_of_genesis(*g);
        const std::string one = endpoint_ids()[1].node_id_hex();
        auto ballot = make_ballot(endpoint_ids()[0], network_id, 0, ChangeKind::kAdmit, one, Decision::kApprove, "");
        Member m = member_of(endpoint_ids()[1], {"127.0.0.1:2"}, "one", {{"127.0.0.1:5223"}, 128});
        auto next = assemble_next(*g, network_id, ChangeKind::kAdmit, one, &m, {ballot.value()}, endpoint_ids()[0],
                                  crypto::random_key());
        REQUIRE_MESSAGE(next.is_ok(), next.status().to_string());
        genesis = std::move(g).value();
        current = std::move(next).value();
    }
    MemberUpdate update(int who, uint64_t serial, std::vector<std::string> endpoints, uint32_t offer = 128) const {
        return make_member_update(endpoint_ids()[who], network_id, serial, {std::move(endpoints), offer}).value();
    }
    RosterEpoch genesis, current;
    uint32_t network_id = 0;
};

}  // namespace

TEST_CASE("members list their client endpoints and media offer in the roster, and a malformed endpoint is refused") {
    TwoMembers net;
    const MemberAdvert listed{{"127.0.0.1:5223"}, 128};
    CHECK(net.current.member(endpoint_ids()[1].node_id_hex())->advert == listed);
    auto decoded = decode_roster_epoch(encode(net.current));
    REQUIRE(decoded.is_ok());
    CHECK(decoded->members == net.current.members);
    auto app = make_application(endpoint_ids()[2], net.network_id, {"127.0.0.1:3"}, "two", 100, {{"no port here"}, 0});
    REQUIRE(app.is_ok());
    CHECK(contains(verify_application(*app, net.network_id, net.current).message(), "not HOST:PORT"));
}

TEST_CASE("an member update counts only when its member signed it for this network") {
    TwoMembers net;
    const auto u = net.update(1, 10, {"[::1]:6000", "127.0.0.1:6000"});
    CHECK(verify_member_update(u, net.network_id, net.current).is_ok());
    auto decoded = decode_member_update(encode(u));
    REQUIRE(decoded.is_ok());
    CHECK(verify_member_update(*decoded, net.network_id, net.current).is_ok());

    CHECK(contains(verify_member_update(u, net.network_id + 1, net.current).message(), "another network"));
    auto moved = u;  // someone else points member 1's clients elsewhere
    moved.advert.client_endpoints = {"198.51.100.7:4223"};
    CHECK(contains(verify_member_update(moved, net.network_id, net.current).message(), "does not verify"));
    auto claimed = net.update(0, 10, {"198.51.100.7:4223"});  // member 0's signature, member 1's name
    claimed.node_id = endpoint_ids()[1].node_id_hex();
    CHECK(contains(verify_member_update(claimed, net.network_id, net.current).message(), "does not verify"));
    CHECK(contains(verify_member_update(net.update(2, 10, {"127.0.0.1:7000"}), net.network_id, net.current).message(),
                   "not a member"));
    CHECK(contains(verify_member_update(net.update(1, 11, {"127.0.0.1"}), net.network_id, net.current).message(),
                   "not HOST:PORT"));

    const std::string good = encode(u);
    CHECK_FALSE(decode_member_update("").is_ok());
    CHECK_FALSE(decode_member_update(good.substr(0, good.size() - 3)).is_ok());
    CHECK(contains(decode_member_update(good + '\0').status().message(), "trailing"));
    CHECK_FALSE(decode_member_update(encode(net.current)).is_ok());  // an epoch is not an update
    auto too_many = u;
    too_many.advert.client_endpoints.assign(kMaxEndpoints + 1, "127.0.0.1:1");
    CHECK_FALSE(decode_member_update(encode(too_many)).is_ok());
}

TEST_CASE("a node keeps each member's newest update, on disk, and makes its own when its advert changes") {
    TwoMembers net;
    MemoryStore disk;
    RosterStore store(disk);
    MemberUpdates zero(store, endpoint_ids()[0]);
    const Member& one = *net.current.member(endpoint_ids()[1].node_id_hex());
    CHECK(zero.of(one) == one.advert);  // as the roster lists it

    CHECK(zero.offer(net.update(1, 20, {"127.0.0.1:6001"}), net.current, net.network_id).is_ok());
    CHECK(zero.of(one).client_endpoints == std::vector<std::string>{"127.0.0.1:6001"});
    // The same update again, as members send theirs every 10 minutes.
    CHECK(zero.offer(net.update(1, 20, {"127.0.0.1:6001"}), net.current, net.network_id).is_ok());
    CHECK(zero.offer(net.update(1, 20, {"127.0.0.1:6002"}), net.current, net.network_id).code() == Code::kAlreadyExists);
    CHECK(zero.offer(net.update(1, 19, {"127.0.0.1:6003"}), net.current, net.network_id).code() == Code::kAlreadyExists);
    CHECK(zero.of(one).client_endpoints == std::vector<std::string>{"127.0.0.1:6001"});
    CHECK_FALSE(zero.offer(net.update(2, 30, {"127.0.0.1:6004"}), net.current, net.network_id).is_ok());
    CHECK(zero.encoded_updates().size() == 1);

    // Its own: none while the roster already says so, one when it changes
    // (here the offer alone).
    auto same = zero.set_own({{"127.0.0.1:4223"}, 64}, net.current, net.network_id, 1000);
    REQUIRE(same.is_ok());
    CHECK_FALSE(same->has_value());
    CHECK_FALSE(zero.own_update());
    auto made = zero.set_own({{"127.0.0.1:4223"}, 512}, net.current, net.network_id, 1000);
    REQUIRE(made.is_ok());
    REQUIRE(made->has_value());
    CHECK(zero.of(*net.current.member(endpoint_ids()[0].node_id_hex())).media_offer_mib == 512);
    CHECK(zero.own_update() == **made);
    // A clock set back still gives a newer serial.
    auto again = zero.set_own({{"127.0.0.1:4998"}, 512}, net.current, net.network_id, 5);
    REQUIRE(again.is_ok());
    CHECK(decode_member_update(**again)->serial == 1001);

    // A restart reads them back; a damaged or no longer valid one is dropped.
    MemberUpdates restarted(store, endpoint_ids()[0]);
    restarted.load(net.current, net.network_id);
    CHECK(restarted.of(one).client_endpoints == std::vector<std::string>{"127.0.0.1:6001"});
    CHECK(restarted.encoded_updates().size() == 2);
    MemberUpdates earlier(store, endpoint_ids()[0]);
    earlier.load(net.genesis, net.network_id);  // a roster without member 1
    CHECK(earlier.encoded_updates().size() == 1);

    // A member that leaves the roster takes its update along.
    zero.follow(net.genesis);
    CHECK(zero.encoded_updates().size() == 1);
}

TEST_CASE("load lines parse back, and malformed ones are refused") {
    const MemberLoad l{std::string(40, 'a'), "suspect", 12, 10000};
    auto back = parse_member_load(format_member_load(l));
    REQUIRE(back.is_ok());
    CHECK(back->node_id == l.node_id);
    CHECK(back->state == "suspect");
    CHECK(back->sessions == 12);
    CHECK(back->capacity == 10000);
    const std::string id(40, 'b');
    for (const std::string& bad : {std::string(), id + " alive 1", id + " alive 1 2 3", id + " alive 1 2 ",
                                  id + "  alive 1 2", id + " asleep 1 2", id + " alive -1 2", id + " alive 1 99999999999",
                                  std::string(39, 'b') + " alive 1 2", std::string(40, 'B') + " alive 1 2",
                                  id + " alive 1 2" + std::string(200, ' ')})
        CHECK_MESSAGE(!parse_member_load(bad).is_ok(), bad);
}

TEST_CASE("a busy node sends logins to members with room, in proportion to it") {
    const MemberLoad own{"self", "alive", 81, 100};
    auto room = [](std::string id, std::string state, uint32_t sessions, uint32_t capacity, std::string endpoint) {
        return MemberRoom{{std::move(id), std::move(state), sessions, capacity}, std::move(endpoint)};
    };
    const std::vector<MemberRoom> others{
        room("roomy", "alive", 0, 100, "h:1"),      // room for 80 before it is as full as the mark
        room("half", "alive", 40, 100, "h:2"),      // room for 40
        room("full", "alive", 85, 100, "h:3"),      // over the mark: none
        room("down", "dead", 0, 100, "h:4"),        // not alive
        room("quiet", "suspect", 0, 100, "h:5"),    // not known to be alive
        room("hidden", "alive", 0, 100, ""),        // serves no clients
        room("unheard", "alive", 0, 0, "h:7"),      // capacity not heard yet
    };
    Rng rng(7);
    CHECK_FALSE(choose_redirect({"self", "alive", 80, 100}, 80, others, rng));  // at the threshold: keeps it
    std::map<size_t, int> picked;
    for (int i = 0; i < 3000; ++i) {
        auto to = choose_redirect(own, 80, others, rng);
        REQUIRE(to);
        ++picked[*to];
    }
    CHECK(picked.size() == 2);
    CHECK(picked[0] + picked[1] == 3000);
    CHECK(picked[0] > 1800);  // 2/3 expected: 2,000
    CHECK(picked[1] > 800);   // 1/3 expected: 1,000
    CHECK_FALSE(choose_redirect(own, 80, {others[2], others[3], others[5]}, rng));  // nowhere better
}

TEST_CASE("logins sent on between two load reports count against their member until it reports again") {
    RedirectCounts counts;
    auto others = [](uint32_t a, uint32_t b) {
        return std::vector<MemberRoom>{{{"a", "alive", a, 100}, "h:1"}, {{"b", "alive", b, 100}, "h:2"}};
    };
    auto view = others(10, 10);
    counts.adjust(view);
    CHECK(view[0].load.sessions == 10);
    counts.sent("a");
    counts.sent("a");
    counts.sent("nobody");  // not listed: nothing to count against
    view = others(10, 10);
    counts.adjust(view);
    CHECK(view[0].load.sessions == 12);
    CHECK(view[1].load.sessions == 10);
    view = others(12, 10);  // a's report now includes them
    counts.adjust(view);
    CHECK(view[0].load.sessions == 12);
    // Draws over a burst, with no report between, fill both equally.
    Rng rng(3);
    std::map<std::string, int> got;
    for (int i = 0; i < 40; ++i) {
        view = others(12, 10);
        counts.adjust(view);
        auto to = choose_redirect({"self", "alive", 90, 100}, 80, view, rng);
        REQUIRE(to);
        counts.sent(view[*to].load.node_id);
        ++got[view[*to].load.node_id];
    }
    // Each ends near 31 of the 62 (odds follow the room left, so the
    // emptier is drawn more until they even out).
    const int a = got["a"] + 12, b = got["b"] + 10;
    CHECK(a + b == 62);
    CHECK(std::abs(a - b) <= 8);
}
