// The trusted network with real dhtalk-node processes on loopback: a node
// founds a network, two apply and are admitted by the members' vote, a stock
// OpenDHT peer gets nothing from the sealed overlay, a member is banned, and
// the admin interface refuses callers without the secret.
#include <httplib.h>

#include "testing/dht_client.h"
#include "tests/node_process.h"

#include "tests/doctest.h"

using namespace dhtalk;
using namespace std::chrono_literals;

namespace {

const std::vector<std::string> kFast{"--roster-interval-ms", "200"};

bool reaches(test::NodeProcess& n, const std::string& standing, uint64_t epoch) {
    auto s = n.status_json();
    return s["standing"].asString() == standing && s["roster_epoch"].asUInt64() == epoch;
}

void approve(test::NodeProcess& voter, const std::string& change, const std::string& node_id) {
    auto r = voter.cli({"admin", change, node_id, "--reason", "test"});
    REQUIRE_MESSAGE(r.status == 0, r.err);
}

}  // namespace

TEST_CASE("found, admit two by vote, keep a stock peer out, ban one") {
    test::TempDir dir;
    test::NodeProcess a(dir / "a", test::with({"--genesis", "--network", "trust-test", "--contact", "alice"}, kFast));
    const auto ra = a.wait_ready();
    CHECK(reaches(a, "member", 0));
    const std::string bootstrap = "127.0.0.1:" + std::to_string(ra.peer_port);

    // B applies and waits outside the overlay until admitted.
    test::NodeProcess b(dir / "b", test::with({"--apply", "bob", "--bootstrap", bootstrap}, kFast));
    const auto rb = b.wait_ready();
    CHECK(b.status_json()["standing"].asString() == "applicant");
    CHECK(rb.dht_port_ipv4 == 0);  // not in the overlay yet
    REQUIRE(test::wait_until([&] { return a.cli({"admin", "pending", "--json"}).out.find(rb.node_id) != std::string::npos; },
                             20s));
    CHECK(b.cli({"admin", "approve", ra.node_id}).status == 1);  // an applicant has no vote
    approve(a, "approve", rb.node_id);  // 1 of 1
    REQUIRE(test::wait_until([&] { return reaches(b, "member", 1); }, 20s));

    // C needs both members: one approval is not enough.
    test::NodeProcess c(dir / "c", test::with({"--apply", "carol", "--bootstrap", bootstrap}, kFast));
    const auto rc = c.wait_ready();
    REQUIRE(test::wait_until([&] { return b.cli({"admin", "pending", "--json"}).out.find(rc.node_id) != std::string::npos; },
                             20s));
    approve(a, "approve", rc.node_id);
    auto pending = a.cli({"admin", "pending"});
    CHECK(pending.out.find("approvals 1/2") != std::string::npos);
    CHECK(c.status_json()["standing"].asString() == "applicant");
    approve(b, "approve", rc.node_id);
    REQUIRE(test::wait_until([&] { return reaches(c, "member", 2) && reaches(a, "member", 2) && reaches(b, "member", 2); },
                             20s));
    REQUIRE(test::wait_until([&] { return a.status_json()["peers_ipv4"].asUInt() >= 2; }, 30s));

    // A stock OpenDHT peer with the right network id learns nothing.
    {
        const auto before = a.status_json()["datagrams_refused"].asUInt64();
        test::TestClient stock(ra.network_id, a.wait_ready().dht_port_ipv4);
        REQUIRE(test::wait_until([&] { return a.status_json()["datagrams_refused"].asUInt64() > before; }, 20s));
        CHECK(stock.get(dht::InfoHash::get("anything"), 1, 2s).empty());
        stock.stop();
    }

    // The peer service refuses malformed documents and queries with a reason.
    {
        httplib::Client peer("127.0.0.1", ra.peer_port);
        for (const char* path : {"/v1/apply", "/v1/ballot", "/v1/epoch"}) {
            auto res = peer.Post(path, std::string("\x93\x02\xc6\xff\xff\xff\xff garbage"), "application/msgpack");
            REQUIRE(res);
            CHECK(res->status == 400);
            CHECK_FALSE(res->body.empty());
        }
        auto bad_query = peer.Get("/v1/roster?from=-1");
        REQUIRE(bad_query);
        CHECK(bad_query->status == 400);
        auto roster = peer.Get("/v1/roster?from=0");
        REQUIRE(roster);
        CHECK(roster->status == 200);
        CHECK(a.status_json()["roster_epoch"].asUInt64() == 2);  // nothing accepted changed
    }

    // The admin interface wants its secret.
    {
        httplib::Client client("127.0.0.1", ra.http_port);
        auto res = client.Get("/admin/pending");
        REQUIRE(res);
        CHECK(res->status == 401);
        auto vote = client.Post("/admin/vote", R"({"change":"ban","node_id":")" + rb.node_id + R"(","decision":"approve"})",
                                "application/json");
        REQUIRE(vote);
        CHECK(vote->status == 401);
    }

    // Ban C: A and B are both needed (C cannot vote on itself).
    CHECK(c.cli({"admin", "ban", rc.node_id, "--reason", "self"}).status == 1);
    approve(a, "ban", rc.node_id);
    CHECK(reaches(a, "member", 2));
    approve(b, "ban", rc.node_id);
    REQUIRE(test::wait_until([&] { return reaches(a, "member", 3) && reaches(b, "member", 3); }, 20s));
    REQUIRE(test::wait_until([&] { return reaches(c, "banned", 3); }, 20s));
    CHECK(a.status_json()["members"].asUInt64() == 2);

    // A member restarts and resumes at the epoch it had.
    a.process->signal(SIGTERM);
    REQUIRE(a.process->wait(15s) == std::optional<int>(0));
    test::NodeProcess a2(dir / "a", kFast);
    a2.wait_ready();
    CHECK(reaches(a2, "member", 3));
}

TEST_CASE("a node in no network refuses to start, and says how to join one") {
    test::TempDir dir;
    test::NodeProcess n(dir / "n", {});
    auto code = n.process->wait(30s);
    REQUIRE(code);
    CHECK(*code == 2);
    CHECK(n.log().find("--genesis") != std::string::npos);
    CHECK(n.log().find("--apply") != std::string::npos);
}
