// Node membership (SWIM with Lifeguard's refinements) on the simulated
// network: failures are detected within the promised time, live nodes are
// never declared dead under loss, suspicion is refuted, a node that accuses
// everyone kills no one, partitions heal, runs replay from their seed, and
// hostile datagrams change nothing.
#include "tests/doctest.h"
#include <msgpack.hpp>

#include <set>

#include "sim/gossip_cluster.h"

using namespace dhtalk;
using namespace std::chrono;

namespace {

// Nodes (by index) that some running node has declared dead, and when.
std::vector<std::pair<size_t, milliseconds>> deaths(const GossipCluster& c, SteadyTime origin) {
    std::vector<std::pair<size_t, milliseconds>> out;
    for (const auto& o : c.history())
        if (o.event.state == MemberState::kDead)
            out.push_back({std::stoul(o.event.id, nullptr, 16) - 1, duration_cast<milliseconds>(o.event.at - origin)});
    return out;
}

bool everyone_sees(GossipCluster& c, size_t subject, MemberState state) {
    for (size_t i = 0; i < c.size(); ++i)
        if (i != subject && c.running(i) && c.node(i).member(c.id(subject))->state != state) return false;
    return true;
}

struct ForgedUpdate {
    std::string id;
    MemberState state;
    uint64_t incarnation;
    std::string accuser;
};

// A ping from `from` at `incarnation`, carrying `updates`.
std::string ping(const std::string& from, uint64_t incarnation, const std::vector<ForgedUpdate>& updates) {
    msgpack::sbuffer buf;
    msgpack::packer<msgpack::sbuffer> pk(buf);
    pk.pack_array(9);
    pk.pack(1);
    pk.pack(1);  // ping
    pk.pack(from);
    pk.pack(incarnation);
    pk.pack(1);
    pk.pack(std::string());
    pk.pack(0);
    pk.pack(0);
    pk.pack_array(static_cast<uint32_t>(updates.size()));
    for (const auto& u : updates) {
        pk.pack_array(4);
        pk.pack(u.id);
        pk.pack(static_cast<uint8_t>(u.state));
        pk.pack(u.incarnation);
        pk.pack(u.accuser);
    }
    return {buf.data(), buf.size()};
}

std::string accusation(const std::string& from, const std::vector<std::string>& victims, MemberState state) {
    std::vector<ForgedUpdate> updates;
    for (const auto& v : victims) updates.push_back({v, state, 0, from});
    return ping(from, 0, updates);
}

}  // namespace

TEST_CASE("a stopped node is declared dead by every other node within the promised time") {
    for (uint64_t seed : {1, 2, 3}) {
        CAPTURE(seed);
        GossipCluster c(30, SwimConfig{}, simulated_link(0.01, seed), seed);
        c.run_until(seconds(20));
        CHECK(deaths(c, {}).empty());
        const auto bound = c.node(1).detection_bound();
        c.stop(7);
        const auto stopped_at = c.now();
        c.run_until(stopped_at + bound);
        CHECK(everyone_sees(c, 7, MemberState::kDead));
        for (const auto& [who, at] : deaths(c, {})) CHECK(who == 7);
    }
}

TEST_CASE("no live node is declared dead in 30 simulated minutes with 5% loss") {
    for (uint64_t seed : {11, 12}) {
        CAPTURE(seed);
        GossipCluster c(40, SwimConfig{}, simulated_link(0.05, seed), seed);
        c.run_until(minutes(30));
        auto d = deaths(c, {});
        CHECK(d.empty());
        if (!d.empty()) INFO("first: node " << d[0].first << " at " << d[0].second.count() << " ms");
    }
}

TEST_CASE("a slow node gets no one declared dead") {
    for (uint64_t seed : {13, 14}) {
        CAPTURE(seed);
        GossipCluster c(30, SwimConfig{}, simulated_link(0.01, seed), seed);
        // Node 3 answers late: everything it sends and receives takes 300 ms more.
        c.set_extra_delay(3, milliseconds(300));
        c.run_until(minutes(5));
        // Its late acks still land within the period: no one is declared
        // dead, neither it nor those it probes.
        CHECK(deaths(c, {}).empty());
    }
}

TEST_CASE("a suspected node that is alive refutes with a higher incarnation") {
    GossipCluster c(20, SwimConfig{}, simulated_link(0.0, 5), 5);
    c.run_until(seconds(10));
    // Node 4 hears nothing for a while: probes of it fail, it gets suspected.
    c.set_partition([](size_t a, size_t b) { return b == 4 && a != 4; });
    c.run_until(seconds(13));
    c.set_partition(nullptr);
    c.run_until(seconds(60));
    bool suspected = false;
    for (const auto& o : c.history()) suspected |= o.event.id == c.id(4) && o.event.state == MemberState::kSuspect;
    CHECK(suspected);
    CHECK(c.node(4).incarnation() > 0);
    CHECK(everyone_sees(c, 4, MemberState::kAlive));
    CHECK(deaths(c, {}).empty());
}

TEST_CASE("a member that accuses everyone kills no one") {
    GossipCluster c(20, SwimConfig{}, simulated_link(0.01, 9), 9);
    c.run_until(seconds(5));
    std::vector<std::string> victims;
    for (size_t i = 1; i < c.size(); ++i) victims.push_back(c.id(i));
    // Node 0 is the rogue: every 500 ms it tells everyone that everyone is dead, then suspect.
    for (int round = 0; round < 120; ++round) {
        for (size_t to = 1; to < c.size(); ++to)
            c.inject(0, to, accusation(c.id(0), victims, round % 2 ? MemberState::kDead : MemberState::kSuspect));
        c.run_until(c.now() + milliseconds(500));
    }
    c.run_until(c.now() + seconds(30));
    CHECK(deaths(c, {}).empty());
    for (size_t i = 1; i < c.size(); ++i) CHECK(everyone_sees(c, i, MemberState::kAlive));
}

TEST_CASE("a partition that heals converges on both sides") {
    GossipCluster c(20, SwimConfig{}, simulated_link(0.01, 21), 21);
    c.run_until(seconds(5));
    c.set_partition([](size_t a, size_t b) { return (a < 10) != (b < 10); });
    c.run_until(seconds(90));
    // Each side has declared the other dead.
    CHECK(c.node(0).member(c.id(15))->state == MemberState::kDead);
    CHECK(c.node(15).member(c.id(0))->state == MemberState::kDead);
    c.set_partition(nullptr);
    c.run_until(seconds(180));
    for (size_t i = 0; i < c.size(); ++i) CHECK(everyone_sees(c, i, MemberState::kAlive));
}

TEST_CASE("a restarted node comes back alive everywhere") {
    GossipCluster c(15, SwimConfig{}, simulated_link(0.01, 31), 31);
    c.run_until(seconds(5));
    c.stop(2);
    c.run_until(seconds(40));
    CHECK(everyone_sees(c, 2, MemberState::kDead));
    c.restart(2);
    c.run_until(seconds(70));
    CHECK(everyone_sees(c, 2, MemberState::kAlive));
}

TEST_CASE("load is carried on every message") {
    GossipCluster c(5, SwimConfig{}, simulated_link(0.0, 3), 3);
    c.node(2).set_load(17, 1000);
    c.run_until(seconds(10));
    for (size_t i = 0; i < c.size(); ++i)
        if (i != 2) CHECK(c.node(i).member(c.id(2))->sessions == 17);
}

TEST_CASE("a run replays exactly from its seed") {
    auto run = [] {
        GossipCluster c(25, SwimConfig{}, simulated_link(0.05, 77), 77);
        c.run_until(seconds(10));
        c.stop(3);
        c.run_until(seconds(40));
        std::vector<std::string> h;
        for (const auto& o : c.history())
            h.push_back(std::to_string(o.observer) + o.event.id + member_state_name(o.event.state) +
                        std::to_string((o.event.at - c.start()).count()));
        return std::make_pair(h, c.bytes_sent());
    };
    const auto a = run(), b = run();
    CHECK(a.first == b.first);
    CHECK(a.second == b.second);
    CHECK_FALSE(a.first.empty());
}

TEST_CASE("hostile membership datagrams change nothing") {
    Swim s("aa", SwimConfig{}, 1);
    s.set_members({"aa", "bb", "cc"}, SteadyTime{});
    CHECK(s.on_datagram("bb", std::string(kMaxSwimDatagram + 1, '\x90'), SteadyTime{}).code() == Code::kCorruption);
    CHECK(s.on_datagram("bb", "", SteadyTime{}).code() == Code::kCorruption);
    CHECK(s.on_datagram("bb", "\xdd\xff\xff\xff\xff", SteadyTime{}).code() == Code::kCorruption);
    const std::string good = accusation("bb", {"cc"}, MemberState::kSuspect);
    for (size_t cut = 0; cut < good.size(); ++cut) CHECK_FALSE(s.on_datagram("bb", good.substr(0, cut), SteadyTime{}));
    std::string v2 = good;
    v2[1] = 2;  // version
    CHECK(s.on_datagram("bb", v2, SteadyTime{}).code() == Code::kCorruption);
    // From a non-member: refused.
    CHECK(s.on_datagram("zz", accusation("zz", {"cc"}, MemberState::kSuspect), SteadyTime{}).code() ==
          Code::kPermissionDenied);
    CHECK(s.member("cc")->state == MemberState::kAlive);
    s.take_outgoing();
    // A well-formed accusation from a member is only a suspicion.
    REQUIRE(s.on_datagram("bb", accusation("bb", {"cc"}, MemberState::kDead), SteadyTime{}));
    CHECK(s.member("cc")->state == MemberState::kSuspect);
}

TEST_CASE("unanswered probes lower this node's own health and stretch its timers") {
    Swim s("aa", SwimConfig{}, 1);
    s.set_members({"aa", "bb", "cc", "dd"}, SteadyTime{});
    SteadyTime t{};
    std::vector<SteadyTime> pings;
    for (int i = 0; i < 2000 && pings.size() < 12; ++i) {
        t = s.tick(t);
        for (const auto& d : s.take_outgoing())
            if (d.bytes.size() > 2 && d.bytes[2] == 1) pings.push_back(t);  // [fixarray 9, version 1, kind 1 = ping]
    }
    CHECK(s.health() > 0);
    REQUIRE(pings.size() >= 12);
    // Periods between probes grow as health falls (the multiplier is health + 1).
    CHECK(pings[11] - pings[10] > pings[2] - pings[1]);
    // In its own view, its silent peers are no longer alive.
    CHECK(s.member("bb")->state != MemberState::kAlive);
}

TEST_CASE("a membership datagram speaks for its sender only") {
    Swim s("aa", SwimConfig{}, 1);
    s.set_members({"aa", "bb", "cc"}, SteadyTime{});
    // Member bb's datagram claiming to come from cc (at any incarnation).
    auto refused = s.on_datagram("bb", ping("cc", 7, {}), SteadyTime{});
    CHECK(refused.code() == Code::kPermissionDenied);
    CHECK(refused.message().find("speaks for cc") != std::string::npos);
    CHECK(s.member("cc")->incarnation == 0);
    CHECK(s.on_datagram("cc", ping("cc", 7, {}), SteadyTime{}));
    CHECK(s.member("cc")->incarnation == 7);
}

TEST_CASE("one forged datagram cannot kill a member for good") {
    const SwimConfig config;
    const std::vector<std::string> ids{"aa", "bb", "cc"};
    Swim a("aa", config, 1), c("cc", config, 3);
    SteadyTime now{};
    a.set_members(ids, now);
    c.set_members(ids, now);
    // Member bb raises cc to the last incarnation, then suspects it there:
    // cc's refutation would wrap to 0 and never be heard again.
    const std::vector<ForgedUpdate> raise{{"cc", MemberState::kAlive, UINT64_MAX, ""}};
    const std::vector<ForgedUpdate> suspect{{"cc", MemberState::kSuspect, UINT64_MAX, "bb"}};
    a.on_datagram("bb", ping("bb", 0, raise), now).ignore_error();  // the update is skipped; the ping counts
    c.on_datagram("bb", ping("bb", 0, suspect), now).ignore_error();
    CHECK(a.on_datagram("bb", ping("bb", UINT64_MAX, {}), now).code() == Code::kPermissionDenied);
    CHECK(a.member("cc")->incarnation == 0);
    CHECK(c.incarnation() == 0);
    // At the bound itself, cc refutes once the clock moves on.
    const uint64_t bound = static_cast<uint64_t>(kIncarnationSkew.count());
    const std::vector<ForgedUpdate> at_bound{{"cc", MemberState::kSuspect, bound, "bb"}};
    REQUIRE(a.on_datagram("bb", ping("bb", 0, at_bound), now));
    REQUIRE(c.on_datagram("bb", ping("bb", 0, at_bound), now));
    CHECK(a.member("cc")->state == MemberState::kSuspect);
    CHECK(c.incarnation() == bound + 1);
    for (int i = 0; i < 200 && a.member("cc")->state != MemberState::kAlive; ++i) {
        now += milliseconds(50);
        c.tick(now);
        for (const auto& d : c.take_outgoing())
            if (d.to == "aa") a.on_datagram("cc", d.bytes, now).ignore_error();
        a.tick(now);
        a.take_outgoing();
    }
    CHECK(a.member("cc")->state == MemberState::kAlive);
    CHECK(a.member("cc")->incarnation == bound + 1);
}
