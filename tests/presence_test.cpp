// The presence channel on the simulated network, with the membership
// protocol under it: changes reach watchers on other nodes within a second,
// only nodes with an interested user receive them, privacy lists are applied
// at the author's node, a dead host's users become unavailable, losses are
// repaired, partitions heal, and forged or replayed presence is refused.
#include "tests/doctest.h"
#include <msgpack.hpp>

#include "sim/gossip_cluster.h"

using namespace dhtalk;
using namespace std::chrono;

namespace {

const std::string kAlice(40, 'a'), kBob(40, 'b'), kCarol(40, 'c');

// The last presence of `target` delivered to `watcher` on node `node`.
std::optional<GossipCluster::Delivered> last_delivery(const GossipCluster& c, size_t node, const std::string& watcher,
                                                      const std::string& target) {
    std::optional<GossipCluster::Delivered> out;
    for (const auto& d : c.delivered())
        if (d.node == node && d.delivery.watcher == watcher && d.delivery.presence.user_id == target) out = d;
    return out;
}

size_t deliveries_to(const GossipCluster& c, const std::string& watcher) {
    size_t n = 0;
    for (const auto& d : c.delivered()) n += d.delivery.watcher == watcher;
    return n;
}

// Alice on node 2, Bob on node 9 watching her; settled.
struct Scene {
    GossipCluster c;
    explicit Scene(double loss = 0.01, uint64_t seed = 1, size_t nodes = 20) : c(nodes, SwimConfig{}, simulated_link(loss, seed), seed) {
        c.run_until(seconds(3));
        c.login(2, kAlice);
        c.login(9, kBob);
        c.watch(9, kBob, kAlice);
        c.run_until(c.now() + seconds(2));
    }
};

}  // namespace

TEST_CASE("a presence change reaches a watcher on another node within a second") {
    for (uint64_t seed : {1, 2, 3}) {
        CAPTURE(seed);
        Scene s(0.01, seed);
        auto first = last_delivery(s.c, 9, kBob, kAlice);
        REQUIRE(first);
        CHECK(first->delivery.presence.show == "available");
        const auto t0 = s.c.now();
        REQUIRE(s.c.set_presence(2, kAlice, "away", "at lunch"));
        s.c.run_until(t0 + seconds(1));
        auto d = last_delivery(s.c, 9, kBob, kAlice);
        REQUIRE(d);
        CHECK(d->delivery.presence.show == "away");
        CHECK(d->delivery.presence.status == "at lunch");
        CHECK(d->at - t0 < milliseconds(1000));
    }
}

TEST_CASE("only nodes with an interested user receive presence") {
    Scene s;
    for (int i = 0; i < 5; ++i) {
        REQUIRE(s.c.set_presence(2, kAlice, i % 2 ? "away" : "busy"));
        s.c.run_until(s.c.now() + milliseconds(500));
    }
    for (size_t n = 0; n < s.c.size(); ++n) {
        CAPTURE(n);
        if (n == 9) CHECK(s.c.presence(n).counters().presence_received >= 5);
        else CHECK(s.c.presence(n).counters().presence_received == 0);
    }
}

TEST_CASE("the author's node applies the privacy list before anything leaves it") {
    Scene s;
    s.c.login(5, kCarol);
    s.c.watch(5, kCarol, kAlice);
    s.c.run_until(s.c.now() + seconds(2));
    REQUIRE(last_delivery(s.c, 5, kCarol, kAlice));

    PrivacyList blocks_bob;
    blocks_bob.blocked = {kBob};
    s.c.set_privacy(2, kAlice, blocks_bob);
    const size_t bob_before = deliveries_to(s.c, kBob);
    const uint64_t node9_before = s.c.presence(9).counters().presence_received;
    REQUIRE(s.c.set_presence(2, kAlice, "busy"));
    s.c.run_until(s.c.now() + seconds(12));  // anti-entropy rounds too
    CHECK(deliveries_to(s.c, kBob) == bob_before);
    CHECK(s.c.presence(9).counters().presence_received == node9_before);  // nothing even reached Bob's node
    CHECK(last_delivery(s.c, 5, kCarol, kAlice)->delivery.presence.show == "busy");

    PrivacyList only_bob;
    only_bob.allow_only = true;
    only_bob.allowed = {kBob};
    s.c.set_privacy(2, kAlice, only_bob);
    const size_t carol_before = deliveries_to(s.c, kCarol);
    REQUIRE(s.c.set_presence(2, kAlice, "away"));
    s.c.run_until(s.c.now() + seconds(12));
    CHECK(deliveries_to(s.c, kCarol) == carol_before);
    CHECK(last_delivery(s.c, 9, kBob, kAlice)->delivery.presence.show == "away");
}

TEST_CASE("logging out, or the host dying, makes the user unavailable for watchers, last seen kept") {
    Scene s;
    s.c.logout(2, kAlice);
    s.c.run_until(s.c.now() + seconds(1));
    auto out = last_delivery(s.c, 9, kBob, kAlice);
    REQUIRE(out);
    CHECK(out->delivery.presence.show == "unavailable");
    CHECK(out->delivery.presence.last_seen_ms > 0);

    s.c.login(4, kAlice);  // back, on another node
    s.c.run_until(s.c.now() + seconds(8));
    REQUIRE(last_delivery(s.c, 9, kBob, kAlice)->delivery.presence.show == "available");
    CHECK(last_delivery(s.c, 9, kBob, kAlice)->delivery.presence.host == s.c.id(4));

    const auto bound = s.c.node(9).detection_bound();
    s.c.stop(4);
    const auto stopped = s.c.now();
    s.c.run_until(stopped + bound);
    auto gone = last_delivery(s.c, 9, kBob, kAlice);
    CHECK(gone->delivery.presence.show == "unavailable");
    CHECK(gone->delivery.presence.last_seen_ms >= s.c.wall_ms() - bound.count());
}

TEST_CASE("a user whose node went away is seen on the next at once, long after the watch began") {
    Scene s;
    // Past the leases: the watcher has been renewing its subscription at
    // the host, not at the user's directory.
    s.c.run_until(s.c.now() + seconds(60));
    s.c.stop(2);
    s.c.login(4, kAlice);  // her client fails over at once
    const auto t0 = s.c.now();
    REQUIRE(s.c.set_presence(4, kAlice, "busy", "moved"));
    s.c.run_until(t0 + seconds(2));
    auto d = last_delivery(s.c, 9, kBob, kAlice);
    REQUIRE(d);
    CHECK(d->delivery.presence.host == s.c.id(4));
    CHECK(d->delivery.presence.status == "moved");
    // Not by way of node 2's death, which takes longer to declare.
    CHECK(s.c.node(9).detection_bound() > seconds(2));
}

TEST_CASE("a user back on another node long after logging out is seen there, her old node still running") {
    Scene s;
    s.c.logout(2, kAlice);
    // Past her old node's retention and the directory's leases: node 2 no
    // longer holds her, and the directory no longer locates her.
    s.c.run_until(s.c.now() + seconds(60));
    REQUIRE(last_delivery(s.c, 9, kBob, kAlice)->delivery.presence.show == "unavailable");
    s.c.login(4, kAlice);
    const auto t0 = s.c.now();
    // Within a sync interval or two: Bob's node learns from node 2 that she
    // is not there and asks her directory again.
    s.c.run_until(t0 + seconds(12));
    auto d = last_delivery(s.c, 9, kBob, kAlice);
    REQUIRE(d);
    CHECK(d->delivery.presence.show == "available");
    CHECK(d->delivery.presence.host == s.c.id(4));
    CHECK(d->at - t0 < seconds(12));
}

TEST_CASE("losses are repaired by anti-entropy") {
    Scene s(0.2, 7);  // one datagram in five lost
    for (int i = 0; i < 20; ++i) {
        REQUIRE(s.c.set_presence(2, kAlice, i % 2 ? "away" : "busy", "change " + std::to_string(i)));
        s.c.run_until(s.c.now() + milliseconds(300));
    }
    s.c.run_until(s.c.now() + seconds(15));
    auto d = last_delivery(s.c, 9, kBob, kAlice);
    REQUIRE(d);
    CHECK(d->delivery.presence.status == "change 19");
}

TEST_CASE("a partition that heals: the watcher converges on the host's presence") {
    Scene s(0.01, 11);
    s.c.set_partition([](size_t a, size_t b) { return (a < 5) != (b < 5); });  // node 2 apart from node 9
    s.c.run_until(s.c.now() + seconds(60));
    CHECK(last_delivery(s.c, 9, kBob, kAlice)->delivery.presence.show == "unavailable");
    REQUIRE(s.c.set_presence(2, kAlice, "busy", "in the tunnel"));
    s.c.set_partition(nullptr);
    s.c.run_until(s.c.now() + seconds(90));
    auto d = last_delivery(s.c, 9, kBob, kAlice);
    CHECK(d->delivery.presence.show == "busy");
    CHECK(d->delivery.presence.status == "in the tunnel");
}

namespace {

// Two channels with a shared signer, pumped by hand: a host and a watcher.
class TestSigner final : public PresenceSigner {
public:
    std::string sign(std::string_view data) override { return "sig:" + who + ":" + std::string(data.size(), 'x'); }
    bool verify(const std::string& node, std::string_view data, std::string_view sig) override {
        return sig == "sig:" + node + ":" + std::string(data.size(), 'x');
    }
    std::string who;
};

struct Pair {
    TestSigner signer;
    PresenceChannel host{"h", PresenceConfig{}, signer}, watcher{"w", PresenceConfig{}, signer};
    SteadyTime now{};
    std::vector<std::string> to_watcher;  // presence datagrams seen on the way, for replay

    Pair() {
        host.set_members({"h", "w"}, now);
        watcher.set_members({"h", "w"}, now);
    }
    void pump() {
        for (int i = 0; i < 20; ++i) {
            signer.who = "h";
            auto a = host.take_outgoing();
            signer.who = "w";
            auto b = watcher.take_outgoing();
            if (a.empty() && b.empty()) return;
            for (auto& d : a) {
                to_watcher.push_back(d.bytes);
                signer.who = "w";
                watcher.on_datagram("h", d.bytes, now).ignore_error();
            }
            for (auto& d : b) {
                signer.who = "h";
                host.on_datagram("w", d.bytes, now).ignore_error();
            }
        }
    }
};

std::string forged_presence(const std::string& user, const std::string& host, uint64_t version, const std::string& sig) {
    msgpack::sbuffer inner;
    msgpack::packer<msgpack::sbuffer> ip(inner);
    ip.pack_array(6);
    ip.pack(user);
    ip.pack(std::string("available"));
    ip.pack(std::string("forged"));
    ip.pack(0);
    ip.pack(version);
    ip.pack(host);
    msgpack::sbuffer buf;
    msgpack::packer<msgpack::sbuffer> pk(buf);
    pk.pack_array(5);
    pk.pack(1);
    pk.pack(4);
    pk.pack_bin(static_cast<uint32_t>(inner.size()));
    pk.pack_bin_body(inner.data(), static_cast<uint32_t>(inner.size()));
    pk.pack_bin(static_cast<uint32_t>(sig.size()));
    pk.pack_bin_body(sig.data(), static_cast<uint32_t>(sig.size()));
    pk.pack_array(1);
    pk.pack(std::string("bob"));
    return {buf.data(), buf.size()};
}

// A host's answer that it does not hold these users.
std::string gone(const std::vector<std::string>& users) {
    msgpack::sbuffer buf;
    msgpack::packer<msgpack::sbuffer> pk(buf);
    pk.pack_array(3);
    pk.pack(1);
    pk.pack(6);
    pk.pack(users);
    return {buf.data(), buf.size()};
}

}  // namespace

TEST_CASE("forged, replayed and malformed presence is refused") {
    Pair p;
    p.signer.who = "h";
    p.host.login("alice", p.now, 1000);
    p.host.set_privacy("alice", {}, p.now);
    p.signer.who = "w";
    REQUIRE(p.watcher.watch("bob", "alice", p.now));
    p.pump();
    REQUIRE(p.watcher.presence_for("bob", "alice"));
    p.signer.who = "h";
    REQUIRE(p.host.set("alice", "away", "", p.now, 2000));
    p.pump();
    REQUIRE(p.watcher.presence_for("bob", "alice")->show == "away");
    p.watcher.take_deliveries();

    // Replayed: an older presence, validly signed, changes nothing.
    for (const auto& old : p.to_watcher) p.watcher.on_datagram("h", old, p.now).ignore_error();
    CHECK(p.watcher.presence_for("bob", "alice")->show == "away");
    CHECK(p.watcher.take_deliveries().empty());

    // Signed by a member that does not host the user.
    p.watcher.set_members({"h", "w", "m"}, p.now);
    auto s = p.watcher.on_datagram("m", forged_presence("alice", "m", 99999, "sig:m:" + std::string(10, 'x')), p.now);
    CHECK(s.code() == Code::kPermissionDenied);
    // Claiming the real host, with a signature that is not the host's.
    s = p.watcher.on_datagram("h", forged_presence("alice", "h", 99999, "not a signature"), p.now);
    CHECK(s.code() == Code::kPermissionDenied);
    // From a non-member.
    CHECK(p.watcher.on_datagram("x", forged_presence("alice", "x", 99999, "sig"), p.now).code() ==
          Code::kPermissionDenied);
    // Malformed, truncated, oversized.
    CHECK(p.watcher.on_datagram("h", std::string(kMaxPresenceDatagram + 1, '\x90'), p.now).code() == Code::kCorruption);
    CHECK(p.watcher.on_datagram("h", "\x92\x02\x04", p.now).code() == Code::kCorruption);
    const std::string good = p.to_watcher.back();
    for (size_t cut = 0; cut < good.size(); cut += 7) CHECK_FALSE(p.watcher.on_datagram("h", good.substr(0, cut), p.now));
    CHECK(p.watcher.presence_for("bob", "alice")->show == "away");
    CHECK(p.watcher.take_deliveries().empty());
    CHECK(p.watcher.counters().refused >= 5);

    // "Not here" from a member that is not her host, and a malformed one,
    // leave her host in place: its next change is still accepted.
    CHECK(p.watcher.on_datagram("m", gone({"alice"}), p.now));
    CHECK(p.watcher.on_datagram("h", "\x93\x01\x06\x91\xc0", p.now).code() == Code::kCorruption);
    p.signer.who = "h";
    REQUIRE(p.host.set("alice", "busy", "", p.now, 3000));
    p.pump();
    CHECK(p.watcher.presence_for("bob", "alice")->show == "busy");
}

namespace {

const std::string kDave(40, 'd');

// Alice on node 2 blocks Dave. Bob (allowed) and Dave (blocked) are both
// users of node 9; Bob watches Alice, settled.
struct BlockedScene {
    Scene s;
    BlockedScene() {
        PrivacyList blocks_dave;
        blocks_dave.blocked = {kDave};
        s.c.set_privacy(2, kAlice, blocks_dave);
        s.c.login(9, kDave);
        s.c.run_until(s.c.now() + seconds(2));
        REQUIRE(last_delivery(s.c, 9, kBob, kAlice));
    }
};

}  // namespace

TEST_CASE("a blocked watcher learns nothing on any path, beside an allowed one on the same node") {
    BlockedScene b;
    GossipCluster& c = b.s.c;
    SUBCASE("watching: nothing from the presence the node already holds for the allowed watcher") {
        c.watch(9, kDave, kAlice);
        c.run_until(c.now() + seconds(12));  // anti-entropy rounds too
        CHECK(deliveries_to(c, kDave) == 0);
        REQUIRE(c.set_presence(2, kAlice, "away"));
        c.run_until(c.now() + seconds(2));
        CHECK(deliveries_to(c, kDave) == 0);
        CHECK(last_delivery(c, 9, kBob, kAlice)->delivery.presence.show == "away");
        // What the node answers a one-off get, for each of them.
        CHECK_FALSE(c.presence(9).presence_for(kDave, kAlice));
        REQUIRE(c.presence(9).presence_for(kBob, kAlice));
        CHECK(c.presence(9).presence_for(kBob, kAlice)->show == "away");
    }
    SUBCASE("a watcher allowed later gets the host's answer, not a copy of the allowed watcher's") {
        c.watch(9, kDave, kAlice);
        c.run_until(c.now() + seconds(2));
        REQUIRE(deliveries_to(c, kDave) == 0);
        c.set_privacy(2, kAlice, {});
        REQUIRE(c.set_presence(2, kAlice, "busy"));
        c.run_until(c.now() + seconds(2));
        auto d = last_delivery(c, 9, kDave, kAlice);
        REQUIRE(d);
        CHECK(d->delivery.presence.show == "busy");
    }
    SUBCASE("the host's death is told only to the watchers that saw the user online") {
        c.watch(9, kDave, kAlice);
        c.run_until(c.now() + seconds(2));
        const auto bound = c.node(9).detection_bound();
        c.stop(2);
        c.run_until(c.now() + bound);
        CHECK(last_delivery(c, 9, kBob, kAlice)->delivery.presence.show == "unavailable");
        CHECK(deliveries_to(c, kDave) == 0);
    }
    SUBCASE("a user hosted on the watcher's own node") {
        c.login(9, kCarol);
        PrivacyList blocks_dave;
        blocks_dave.blocked = {kDave};
        c.set_privacy(9, kCarol, blocks_dave);
        c.watch(9, kBob, kCarol);
        c.watch(9, kDave, kCarol);
        c.run_until(c.now() + seconds(2));
        CHECK(last_delivery(c, 9, kBob, kCarol));
        CHECK_FALSE(last_delivery(c, 9, kDave, kCarol));
        CHECK(c.presence(9).presence_for(kBob, kCarol));
        CHECK_FALSE(c.presence(9).presence_for(kDave, kCarol));
    }
}

TEST_CASE("a user's presence goes to nobody until its node holds the user's list") {
    GossipCluster c(6, SwimConfig{}, simulated_link(0.0, 4), 4);
    c.run_until(seconds(3));
    c.login(1, kBob);
    c.watch(1, kBob, kAlice);
    // Alice logs in on a node her client has not yet given her list: it
    // must not fall back to an empty one.
    c.login(2, kAlice, /*without_list*/ true);
    c.run_until(c.now() + seconds(12));
    CHECK_FALSE(last_delivery(c, 1, kBob, kAlice));
    PrivacyList blocks_bob;
    blocks_bob.blocked = {kBob};
    c.set_privacy(2, kAlice, blocks_bob);  // her client's list arrives: Bob is blocked
    c.run_until(c.now() + seconds(12));
    CHECK_FALSE(last_delivery(c, 1, kBob, kAlice));
    c.set_privacy(2, kAlice, {});  // and now allowed
    c.run_until(c.now() + seconds(2));
    CHECK(last_delivery(c, 1, kBob, kAlice));
}

TEST_CASE("tables a user or a member can grow are bounded per user") {
    TestSigner signer;
    PresenceConfig config;
    config.max_watched_per_user = 3;
    config.max_directory_users = 2;
    PresenceChannel node("h", config, signer);
    SteadyTime now{};
    node.set_members({"h", "w"}, now);
    auto user = [](int i) { return std::string(39, 'u') + char('a' + i); };
    SUBCASE("one local user cannot fill the node's watch table") {
        for (int i = 0; i < 3; ++i) REQUIRE(node.watch(kBob, user(i), now));
        CHECK(node.watch(kBob, user(1), now));  // watching again costs nothing
        auto refused = node.watch(kBob, user(3), now);
        CHECK(refused.code() == Code::kResourceExhausted);
        CHECK(node.watch(kCarol, user(3), now));  // others still can
        node.unwatch(kBob, user(0));
        CHECK(node.watch(kBob, user(3), now));
    }
    SUBCASE("a watch lasts until every hold of it is released") {
        REQUIRE(node.watch(kBob, user(0), now));  // one session
        REQUIRE(node.watch(kBob, user(0), now));  // another, or a one-off get
        node.unwatch(kBob, user(0));
        CHECK(node.watching(kBob, user(0)));
        node.unwatch(kBob, user(0));
        CHECK_FALSE(node.watching(kBob, user(0)));
        node.unwatch(kBob, user(0));  // one too many: nothing to release
        REQUIRE(node.watch(kBob, user(0), now));
        node.unwatch_all(kBob);
        CHECK_FALSE(node.watching(kBob, user(0)));
    }
    SUBCASE("a member cannot fill the directory or subscribe for non-members") {
        auto subscribe = [](const std::string& u, const std::string& origin) {
            msgpack::sbuffer buf;
            msgpack::packer<msgpack::sbuffer> pk(buf);
            pk.pack_array(5);
            pk.pack(1);
            pk.pack(2);  // subscribe
            pk.pack(u);
            pk.pack(origin);
            pk.pack_array(0);
            return std::string(buf.data(), buf.size());
        };
        CHECK(node.on_datagram("w", subscribe(user(0), "z"), now).code() == Code::kPermissionDenied);
        // With two members, "h" is in every user's directory; two users fit.
        CHECK(node.on_datagram("w", subscribe(user(0), "w"), now));
        CHECK(node.on_datagram("w", subscribe(user(1), "w"), now));
        CHECK(node.on_datagram("w", subscribe(user(2), "w"), now).code() == Code::kResourceExhausted);
    }
}
