// The trusted network's peer exchanges are bounded both ways: answers a
// peer sends are read only up to their bound, and ballots for an epoch this
// node has not reached are held only when a current member signed them, a
// few per member.
#include <httplib.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "crypto/node_identity.h"
#include "node/trust/courier.h"
#include "node/http_listener.h"
#include "node/trust/peer_service.h"
#include "node/trust/roster_builder.h"
#include "roster/roster_rules.h"
#include "node/trust/roster_store.h"
#include "node/trust/trusted_network.h"
#include "storage/memory_store.h"
#include "tests/roster_bus.h"
#include "testing/test_util.h"

#include "tests/doctest.h"

using namespace dhtalk;

namespace {

// A founder's TrustConfig for network `name`, reached at 127.0.0.1:1.
TrustConfig genesis_config(const std::string& name) {
    TrustConfig config;
    config.genesis = true;
    config.settings = {name, QuorumRule::kMajority, "kontalk-sha1"};
    config.endpoint = "127.0.0.1:1";
    return config;
}

}  // namespace

TEST_CASE("a peer cannot make the courier read an answer beyond its bound") {
    httplib::Server server;
    server.Get("/v1/roster", [](const httplib::Request&, httplib::Response& res) {
        res.set_content(std::string(kMaxEpochListBytes + 1024, '\x90'), "application/msgpack");
    });
    server.Post("/v1/ballot", [](const httplib::Request&, httplib::Response& res) {
        res.status = 400;
        res.set_content(std::string(1 << 20, 'x'), "text/plain");
    });
    const int port = server.bind_to_any_port("127.0.0.1");
    REQUIRE(port > 0);
    HttpListener listener;
    listener.start(server, "test");
    const std::string endpoint = "127.0.0.1:" + std::to_string(port);
    auto roster = fetch_roster(tcp_peer_net(), endpoint, 0);
    REQUIRE_FALSE(roster);
    CHECK(roster.status().message().find("more than") != std::string::npos);
    auto verdict = post_document(tcp_peer_net(), endpoint, "/v1/ballot", "x");
    REQUIRE_FALSE(verdict);
    CHECK(verdict.message().find("more than") != std::string::npos);
}

TEST_CASE("ballots for the next epoch are held only from current members, verified, a few per member") {
    test::TempDir dir;
    const auto founder = crypto::load_or_create_identity(dir / "founder", 2048).value();
    const auto outsider = crypto::load_or_create_identity(dir / "outsider", 2048).value();
    MemoryStore store;
    SystemClock clock;
    ThreadDrivers drivers(clock);
    auto trust = TrustedNetwork::open(genesis_config("bounds-net"), store, founder, clock, drivers, tcp_peer_net(), 1).value();
    const uint32_t net = trust->network_id();
    auto ballot = [&](const crypto::NodeIdentity& voter, uint64_t epoch, int subject) {
        char id[41];
        std::snprintf(id, sizeof id, "%040x", subject);
        return encode(make_ballot(voter, net, epoch, ChangeKind::kAdmit, id, Decision::kReject, "").value());
    };
    auto from_outsider = trust->on_ballot(ballot(outsider, 1, 1));
    CHECK(from_outsider.code() == Code::kInvalidArgument);
    CHECK(from_outsider.message().find("not a member") != std::string::npos);
    std::string forged = ballot(founder, 1, 1);
    forged[forged.size() - 5] ^= 1;  // inside the signature
    CHECK(trust->on_ballot(forged).code() == Code::kInvalidArgument);
    CHECK(trust->on_ballot(ballot(founder, 5, 1)).message().find("catching up") != std::string::npos);  // not kept
    for (int i = 0; i < 4; ++i) CHECK(trust->on_ballot(ballot(founder, 1, i)).message().find("kept") != std::string::npos);
    CHECK(trust->on_ballot(ballot(founder, 1, 9)).message().find("held already") != std::string::npos);
}

TEST_CASE("one origin cannot fill the pending set: applications are bounded per address, IPv6 per /64") {
    const auto& ids = test::ids();  // 0 founds; 1..5 apply
    test::TempDir dir;
    const auto relay = crypto::load_or_create_identity(dir / "relay", 2048).value();
    // A network of two members: this node (127.0.0.1) and a relay at 192.0.2.50.
    auto genesis = make_genesis(ids[0], {"origin-net", QuorumRule::kMajority, "kontalk-sha1"}, {"127.0.0.1:1"}, "op",
                                crypto::random_key())
                       .value();
    const uint32_t net = network_id_of_genesis(genesis);
    const Member relay_member = member_of(relay, {"192.0.2.50:4222"}, "relay");
    auto admit = make_ballot(ids[0], net, 0, ChangeKind::kAdmit, relay.node_id_hex(), Decision::kApprove, "").value();
    auto second = assemble_next(genesis, net, ChangeKind::kAdmit, relay.node_id_hex(), &relay_member, {admit}, ids[0],
                                crypto::random_key())
                      .value();
    MemoryStore store;
    RosterStore(store).save_epoch(genesis).ignore_error();
    RosterStore(store).save_epoch(second).ignore_error();
    SystemClock clock;
    ThreadDrivers drivers(clock);
    TrustConfig config;
    config.endpoint = "127.0.0.1:1";
    auto trust = TrustedNetwork::open(config, store, ids[0], clock, drivers, tcp_peer_net(), 1).value();
    auto application = [&](int i) {
        return encode(make_application(ids[i], net, {"127.0.0.1:" + std::to_string(100 + i)}, "op",
                                       to_unix_seconds(clock.wall_now()))
                          .value());
    };
    // Four addresses of one /64 are one origin.
    for (int i = 1; i <= 4; ++i)
        REQUIRE(trust->on_application(application(i), {"2001:db8:0:1::" + std::to_string(i), ""}).is_ok());
    CHECK(trust->on_application(application(1), {"2001:db8:0:1::1", ""}).code() == Code::kAlreadyExists);
    auto fifth = trust->on_application(application(5), {"2001:db8:0:1::ff", ""});
    CHECK(fifth.code() == Code::kBusy);
    CHECK(fifth.message().find("2001:db8:0:1::/64") != std::string::npos);
    // Passed on by the other member, it still counts for the origin that member names.
    CHECK(trust->on_application(application(5), {"192.0.2.50", "2001:db8:0:1::9"}).code() == Code::kBusy);
    // Anyone else naming an origin (this node's own address included) is the origin itself.
    CHECK(trust->on_application(application(5), {"127.0.0.1", "2001:db8:0:1::9"}).is_ok());
    CHECK(trust->pending_count() == 5);
}

TEST_CASE("gossip fan-out: log2 of the network plus two, never more than the members there are") {
    CHECK(gossip_fanout(0) == 0);
    CHECK(gossip_fanout(1) == 1);
    CHECK(gossip_fanout(4) == 4);
    CHECK(gossip_fanout(49) == 8);
    CHECK(gossip_fanout(99) == 9);
}

TEST_CASE("tick() does not wait for a member that never answers a catch-up") {
    // A "member" that takes connections and never answers them.
    const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(listener >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(listener, 4) == 0);
    socklen_t len = sizeof addr;
    REQUIRE(::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) == 0);

    test::TempDir dir;
    const auto founder = crypto::load_or_create_identity(dir / "founder", 2048).value();
    MemoryStore store;
    SystemClock clock;
    ThreadDrivers drivers(clock);
    TrustConfig config = genesis_config("silent-net");
    config.bootstrap = {"127.0.0.1:" + std::to_string(ntohs(addr.sin_port))};
    auto trust = TrustedNetwork::open(config, store, founder, clock, drivers, tcp_peer_net(), 1).value();

    trust->tick();
    // tick() has returned; the catch-up it started is still waiting for the
    // answer. A tick that waited would have returned only once the request
    // timed out and its connection was closed.
    pollfd waiting{listener, POLLIN, 0};
    REQUIRE(test::wait_until([&] { return ::poll(&waiting, 1, 0) == 1; }, std::chrono::seconds(5)));  // it connected
    const int conn = ::accept(listener, nullptr, nullptr);
    REQUIRE(conn >= 0);
    pollfd p{conn, POLLIN, 0};
    REQUIRE(test::wait_until([&] { return ::poll(&p, 1, 0) == 1; }, std::chrono::seconds(5)));  // the request
    char buf[4096];
    ssize_t n;
    while ((n = ::recv(conn, buf, sizeof buf, MSG_DONTWAIT)) > 0) {
    }
    CHECK(n < 0);  // nothing more to read for now: the asker still waits (0 would be its hang-up)
    CHECK(errno == EAGAIN);
    ::close(conn);  // the catch-up fails now, and stop() has nothing to wait for
    trust->stop();
    CHECK(trust->epoch() == 0);
    ::close(listener);
}

TEST_CASE("a catching-up peer is served the epochs as stored, in order, and none past a missing one") {
    test::Bus bus;  // epochs 0..2, as a member holds them
    bus.apply(1);
    bus.vote(0, ChangeKind::kAdmit, 1);
    bus.apply(2);
    bus.vote(0, ChangeKind::kAdmit, 2);
    bus.vote(1, ChangeKind::kAdmit, 2);
    REQUIRE(bus.chain.size() == 3);
    MemoryStore store;
    for (const auto& e : bus.chain) REQUIRE(RosterStore(store).save_epoch(e));
    SystemClock clock;
    ThreadDrivers drivers(clock);
    TrustConfig config;
    config.endpoint = "127.0.0.1:1";
    auto trust = TrustedNetwork::open(config, store, test::ids()[0], clock, drivers, tcp_peer_net(), 1).value();
    REQUIRE(trust->epoch() == 2);
    auto all = trust->epochs_from(0, 10);
    REQUIRE(all.size() == 3);
    for (size_t e = 0; e < 3; ++e) CHECK(all[e] == encode(bus.chain[e]));
    CHECK(trust->epochs_from(1, 1) == std::vector<std::string>{encode(bus.chain[1])});
    CHECK(trust->epochs_from(3, 10).empty());
    // An epoch the store lost ends the answer there: no gap is sent.
    REQUIRE(store.erase(std::string("ro/") + std::string(7, '\0') + '\1'));
    CHECK(trust->epochs_from(0, 10) == std::vector<std::string>{encode(bus.chain[0])});
}
