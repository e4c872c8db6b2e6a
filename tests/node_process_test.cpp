// dhtalk-node and dhtalk as a user runs them: help, errors and exit codes,
// the data directory lock, runtime.json, status, clean stop on SIGTERM, and
// a kill -9 that loses no snapshotted value.
#include <signal.h>

#include <random>

#include "common/json.h"
#include "node/runtime_info.h"
#include "testing/dht_client.h"
#include "tests/node_process.h"
#include "testing/test_util.h"

#include "tests/doctest.h"

using namespace dhtalk;
using namespace std::chrono_literals;
using test::cli_bin;
using test::node_bin;

namespace {

using test::contains;
size_t line_count(const std::string& s) { return static_cast<size_t>(std::count(s.begin(), s.end(), '\n')); }

// A node of a plain (--open) network: this file is about the node as a program.
test::NodeProcess open_node(const std::filesystem::path& dir, const std::string& network) {
    return test::NodeProcess(dir, {"--network", network, "--open"});
}

std::string unique_network() { return "ptest-" + std::to_string(std::random_device{}()); }

}  // namespace

TEST_CASE("--help and --version explain and exit 0") {
    test::TempDir dir;
    auto help = test::run({node_bin(), "--help"}, dir.path());
    CHECK(help.status == 0);
    CHECK(contains(help.out, "Usage: dhtalk-node"));
    CHECK(contains(help.out, "--data-dir"));
    auto version = test::run({node_bin(), "--version"}, dir.path());
    CHECK(version.status == 0);
    CHECK(contains(version.out, "dhtalk-node "));
    auto cli_help = test::run({cli_bin(), "--help"}, dir.path());
    CHECK(cli_help.status == 0);
    CHECK(contains(cli_help.out, "status"));
}

TEST_CASE("usage errors: one line naming the problem, exit status 2") {
    test::TempDir dir;
    auto unknown = test::run({node_bin(), "--frobnicate"}, dir.path());
    CHECK(unknown.status == 2);
    CHECK(contains(unknown.err, "frobnicate"));
    CHECK(line_count(unknown.err) == 1);
    auto port = test::run({node_bin(), "--dht-port", "99999"}, dir.path());
    CHECK(port.status == 2);
    CHECK(contains(port.err, "dht-port"));
    auto config = test::run({node_bin(), "--config", (dir / "nope.ini").string()}, dir.path());
    CHECK(config.status == 2);
    CHECK(contains(config.err, "nope.ini"));
    auto cli = test::run({cli_bin(), "status", "--bogus"}, dir.path());
    CHECK(cli.status == 2);
    CHECK(line_count(cli.err) == 1);
    auto cli_cmd = test::run({cli_bin(), "fly"}, dir.path());
    CHECK(cli_cmd.status == 2);
    // An option holding one of Boost's message placeholders made its message
    // loop forever; every command answers it like any other usage error.
    for (const char* command : {"status", "admin", "resolve"}) {
        auto placeholder = test::run({cli_bin(), command, "--x%canonical_option%"}, dir.path(), std::chrono::seconds(10));
        CHECK_MESSAGE(placeholder.status == 2, command);
        CHECK(contains(placeholder.err, "invalid option"));
    }
}

TEST_CASE("dhtalk status without a running node fails clearly") {
    test::TempDir dir;
    auto r = test::run({cli_bin(), "status", "--data-dir", (dir / "none").string()}, dir.path());
    CHECK(r.status == 1);
    CHECK(contains(r.err, "no node is running"));
    auto refused = test::run({cli_bin(), "status", "--node", "127.0.0.1:1"}, dir.path());
    CHECK(refused.status == 1);
    CHECK(contains(refused.err, "cannot reach"));
}

TEST_CASE("a node runs, refuses a twin, reports status, and stops cleanly on SIGTERM") {
    test::TempDir dir;
    const auto network = unique_network();
    auto node = open_node(dir / "n", network);
    const auto info = node.wait_ready();
    CHECK(info.node_id.size() == 40);
    CHECK(info.dht_port_ipv4 != 0);
    CHECK(info.http_port != 0);

    // A second node on the same data directory refuses to start.
    auto twin = open_node(dir / "n", network);
    auto twin_exit = twin.process->wait(30s);
    REQUIRE(twin_exit);
    CHECK(*twin_exit == 1);
    CHECK(contains(twin.log(), "in use by another dhtalk-node"));

    auto status = node.status_json();
    CHECK(status["node_id"].asString() == info.node_id);
    CHECK(status["network"].asString() == network);
    auto text = test::run({cli_bin(), "status", "--node", "127.0.0.1:" + std::to_string(info.http_port)}, dir.path());
    CHECK(text.status == 0);
    CHECK(contains(text.out, info.node_id));

    node.process->signal(SIGTERM);
    auto code = node.process->wait(15s);
    REQUIRE(code);
    CHECK(*code == 0);
    CHECK_FALSE(std::filesystem::exists(dir / "n" / kRuntimeFileName));
}

TEST_CASE("kill -9 loses no snapshotted value, and the node keeps its id") {
    test::TempDir dir;
    const auto network = unique_network();
    std::string node_id;
    const auto key = dht::InfoHash::get("survives-a-crash");
    {
        auto node = open_node(dir / "n", network);
        const auto info = node.wait_ready();
        node_id = info.node_id;
        test::TestClient client(info.network_id, info.dht_port_ipv4);
        REQUIRE(client.wait_peers(1));
        REQUIRE(client.put(key, test::text_value("crash-proof")));
        // Wait for the value to arrive and for two more snapshots after it.
        REQUIRE(test::wait_until([&] { return node.status_json()["values_stored"].asUInt() >= 1; }, 20s));
        const auto snaps = node.status_json()["snapshots"].asUInt64();
        REQUIRE(test::wait_until([&] { return node.status_json()["snapshots"].asUInt64() >= snaps + 2; },
                                 20s));
        const auto status = node.status_json();
        CHECK(status["datagrams_in"].asUInt64() > 0);
        CHECK(status["datagrams_out"].asUInt64() > 0);
        CHECK(status["bytes_in"].asUInt64() > status["datagrams_in"].asUInt64());
        client.stop();
        node.process->signal(SIGKILL);
        REQUIRE(node.process->wait(10s));
    }
    auto node = open_node(dir / "n", network);
    const auto info = node.wait_ready();  // a stale runtime.json from the crash is replaced
    CHECK(info.node_id == node_id);
    CHECK(node.status_json()["values_stored"].asUInt() >= 1);
    test::TestClient reader(info.network_id, info.dht_port_ipv4);
    REQUIRE(reader.wait_peers(1));
    CHECK(reader.get(key) == std::vector<std::string>{"crash-proof"});
    reader.stop();
    node.process->signal(SIGTERM);
    CHECK(node.process->wait(15s) == std::optional<int>(0));
}
