// Presence with real dhtalk-node processes and the `dhtalk` command line, as
// the README walks through it: two users on different nodes watch each
// other and see each change; blocking one stops the flow; killing a node
// turns its users unavailable for their watchers.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <thread>
#include <tuple>

#include "common/json.h"
#include "tests/node_process.h"

#include "tests/doctest.h"

using namespace dhtalk;
using namespace std::chrono_literals;

namespace {

// Fast timers, so that the test runs in seconds.
const std::vector<std::string> kFast{"--roster-interval-ms", "200", "--swim-period-ms", "200", "--presence-sync-ms", "1000"};

std::vector<std::string> user_args(const std::filesystem::path& profile, std::vector<std::string> args, uint16_t port) {
    args.insert(args.begin(), test::cli_bin());
    args.insert(args.end(), {"--profile", profile.string(), "--node", "127.0.0.1:" + std::to_string(port)});
    return args;
}

// The presence lines a `presence watch --json` has printed so far.
std::vector<Json::Value> seen(const std::filesystem::path& out) {
    std::vector<Json::Value> lines;
    std::ifstream in(out);
    std::string line;
    while (std::getline(in, line))
        if (auto j = json::parse_object(line)) lines.push_back(*j);
    return lines;
}

// A file's text, for a failure's report.
std::string text_of(const std::filesystem::path& file) {
    std::ifstream in(file);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

bool saw(const std::filesystem::path& out, const std::string& show, const std::string& status = {}) {
    for (const auto& j : seen(out))
        if (j["show"].asString() == show && (status.empty() || j["status"].asString() == status)) return true;
    return false;
}

}  // namespace

TEST_CASE("two users on two nodes watch each other; a block stops the flow; a killed node's users go unavailable") {
    test::TempDir dir;
    test::NodeProcess a(dir / "a", test::with({"--genesis", "--network", "presence-test"}, kFast));
    const auto ra = a.wait_ready();
    const std::string bootstrap = "127.0.0.1:" + std::to_string(ra.peer_port);
    test::NodeProcess b(dir / "b", test::with({"--apply", "b", "--bootstrap", bootstrap}, kFast));
    const auto rb = b.wait_ready();
    REQUIRE(test::wait_until([&] { return a.cli({"admin", "pending", "--json"}).out.find(rb.node_id) != std::string::npos; }, 20s));
    REQUIRE(a.cli({"admin", "approve", rb.node_id}).status == 0);
    test::NodeProcess c(dir / "c", test::with({"--apply", "c", "--bootstrap", bootstrap}, kFast));
    const auto rc = c.wait_ready();
    REQUIRE(test::wait_until([&] { return b.cli({"admin", "pending", "--json"}).out.find(rc.node_id) != std::string::npos; }, 20s));
    REQUIRE(a.cli({"admin", "approve", rc.node_id}).status == 0);
    REQUIRE(b.cli({"admin", "approve", rc.node_id}).status == 0);
    REQUIRE(test::wait_until([&] { return c.status_json()["standing"].asString() == "member"; }, 30s));
    REQUIRE(test::wait_until([&] { return a.status_json()["members_alive"].asUInt() == 2; }, 30s));

    const auto alice = dir / "alice", bob = dir / "bob";
    for (auto [profile, phone, node] : {std::tuple{alice, std::string("+15555245554"), &a},
                                        std::tuple{bob, std::string("+15555245555"), &b}}) {
        const uint16_t port = node == &a ? ra.client_port : rb.client_port;
        auto r = test::run(user_args(profile, {"register", phone}, port), dir.path());
        REQUIRE_MESSAGE(r.status == 0, r.err);
        r = test::run(user_args(profile, {"verify", test::verification_code({a.data_dir, b.data_dir, c.data_dir}, phone)}, port), dir.path());
        REQUIRE_MESSAGE(r.status == 0, r.err);
    }

    // Each watches the other (and so is online while watching).
    test::Process bob_watch(user_args(bob, {"presence", "watch", "+15555245554", "--json"}, rb.client_port),
                            dir / "bob-watch.out", dir / "bob-watch.err");
    test::Process alice_watch(user_args(alice, {"presence", "watch", "+15555245555", "--json"}, ra.client_port),
                              dir / "alice-watch.out", dir / "alice-watch.err");
    // Shown only if a check below fails (doctest evaluates them then).
    INFO("bob's watch printed:\n" << text_of(dir / "bob-watch.out") << text_of(dir / "bob-watch.err"));
    INFO("alice's watch printed:\n" << text_of(dir / "alice-watch.out") << text_of(dir / "alice-watch.err"));
    REQUIRE(test::wait_until([&] { return saw(dir / "bob-watch.out", "available") && saw(dir / "alice-watch.out", "available"); }, 20s));

    // Alice changes: Bob sees it.
    auto r = test::run(user_args(alice, {"presence", "set", "away", "--status", "lunch"}, ra.client_port), dir.path());
    REQUIRE_MESSAGE(r.status == 0, r.err);
    CHECK(test::wait_until([&] { return saw(dir / "bob-watch.out", "away", "lunch"); }, 10s));
    // And the other way round.
    r = test::run(user_args(bob, {"presence", "set", "busy", "--status", "cycling"}, rb.client_port), dir.path());
    REQUIRE_MESSAGE(r.status == 0, r.err);
    CHECK(test::wait_until([&] { return saw(dir / "alice-watch.out", "busy", "cycling"); }, 10s));
    r = test::run(user_args(bob, {"presence", "get", "+15555245554", "--json"}, rb.client_port), dir.path());
    CHECK(r.out.find("\"lunch\"") != std::string::npos);

    // Alice blocks Bob: her next change never reaches him. (Node c hosts no
    // watcher, so it never receives any presence at all.)
    r = test::run(user_args(alice, {"block", "+15555245555"}, ra.client_port), dir.path());
    REQUIRE_MESSAGE(r.status == 0, r.err);
    r = test::run(user_args(alice, {"presence", "set", "busy", "--status", "hidden"}, ra.client_port), dir.path());
    REQUIRE_MESSAGE(r.status == 0, r.err);
    // Bob's change still reaches Alice (her list blocks him, not the reverse)...
    r = test::run(user_args(bob, {"presence", "set", "away", "--status", "after the block"}, rb.client_port), dir.path());
    REQUIRE(test::wait_until([&] { return saw(dir / "alice-watch.out", "away", "after the block"); }, 10s));
    // ...and by then, and after anti-entropy rounds, Alice's "hidden" has not reached Bob.
    std::this_thread::sleep_for(3s);  // three anti-entropy rounds: an absence cannot be awaited
    CHECK_FALSE(saw(dir / "bob-watch.out", "busy", "hidden"));
    CHECK(c.status_json()["presence_received"].asUInt64() == 0);

    // Bob's node is killed: Alice sees him go unavailable, with his last-seen
    // time. Only a line printed after the kill counts: her watch may have
    // begun with Bob unavailable, before his own watch logged him in.
    // Bob's client is frozen first: it would fail over to a member it
    // learned at login and bring him back online from there.
    const size_t before = seen(dir / "alice-watch.out").size();
    bob_watch.signal(SIGSTOP);
    b.process->signal(SIGKILL);
    CHECK(test::wait_until([&] {
        const auto lines = seen(dir / "alice-watch.out");
        return lines.size() > before && lines.back()["show"].asString() == "unavailable";
    }, 60s));
    auto last = seen(dir / "alice-watch.out").back();
    CHECK(last["show"].asString() == "unavailable");
    CHECK(last["last_seen_ms"].asUInt64() > 0);
}

TEST_CASE("an open network with a roster seals its gossip, and its members still see each other") {
    test::TempDir dir;
    const std::vector<std::string> open{"--open"};
    test::NodeProcess a(dir / "a", test::with(test::with({"--genesis", "--network", "open-gossip"}, kFast), open));
    const auto ra = a.wait_ready();
    const std::string bootstrap = "127.0.0.1:" + std::to_string(ra.peer_port);
    test::NodeProcess b(dir / "b", test::with(test::with({"--apply", "b", "--bootstrap", bootstrap}, kFast), open));
    const auto rb = b.wait_ready();
    REQUIRE(test::wait_until([&] { return a.cli({"admin", "pending", "--json"}).out.find(rb.node_id) != std::string::npos; }, 20s));
    REQUIRE(a.cli({"admin", "approve", rb.node_id}).status == 0);
    REQUIRE(test::wait_until([&] { return b.status_json()["standing"].asString() == "member"; }, 30s));
    // Membership gossip runs sealed under the epoch key; OpenDHT's own
    // traffic in the clear (the unit tests check each side of that split).
    REQUIRE(test::wait_until([&] { return a.status_json()["members_alive"].asUInt() == 1; }, 30s));
    REQUIRE(test::wait_until([&] { return b.status_json()["members_alive"].asUInt() == 1; }, 30s));
    // Gossip in the clear, as anyone on the network could send it, is refused.
    const auto refused = a.status_json()["datagrams_refused"].asUInt64();
    const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(ra.peer_port);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const uint8_t forged[] = {0xc1, 0x01, 0x92, 0x01, 0x02};
    REQUIRE(::sendto(fd, forged, sizeof forged, 0, reinterpret_cast<const sockaddr*>(&to), sizeof to) ==
            static_cast<ssize_t>(sizeof forged));
    ::close(fd);
    CHECK(test::wait_until([&] { return a.status_json()["datagrams_refused"].asUInt64() > refused; }, 10s));
}
