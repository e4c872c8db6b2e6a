// Three real dhtalk nodes in one process, on real UDP sockets on loopback,
// each with its own RocksDB: they join, serve values, and keep their
// identities and stored values across a stop and restart of all of them.
#include <future>
#include <random>

#include "node/node.h"
#include "testing/dht_client.h"
#include "testing/test_util.h"

#include "tests/doctest.h"

using namespace dhtalk;
using namespace std::chrono_literals;

namespace {

std::string unique_network() { return "itest-" + std::to_string(std::random_device{}()); }

NodeConfig node_config(const std::filesystem::path& dir, const std::string& network,
                       std::optional<uint16_t> bootstrap_port) {
    NodeConfig c;
    c.data_dir = dir;
    c.network = network;
    c.bind = "127.0.0.1";
    c.dht_port = 0;
    c.http_port = 0;
    c.client_port = 0;
    c.client_bind = "127.0.0.1";
    c.persist_interval = 1s;
    c.open = true;  // a plain network: this test is about storage, not trust
    if (bootstrap_port) c.bootstrap.push_back("127.0.0.1:" + std::to_string(*bootstrap_port));
    return c;
}

// Starts node 0, then the others bootstrapping through it.
std::vector<std::unique_ptr<Node>> start_network(const test::TempDir& dir, const std::string& network,
                                                 const Clock& clock, int count) {
    std::vector<std::unique_ptr<Node>> nodes;
    std::optional<uint16_t> first_port;
    for (int i = 0; i < count; ++i) {
        const auto config = node_config(dir / ("node" + std::to_string(i)), network, first_port);
        auto n = Node::open(config, system_node_env(clock));
        REQUIRE_MESSAGE(n.is_ok(), n.status().to_string());
        if (!first_port) first_port = (*n)->runtime().dht_port_ipv4;
        nodes.push_back(std::move(n).value());
    }
    return nodes;
}

bool all_see_peers(std::vector<std::unique_ptr<Node>>& nodes, unsigned peers) {
    for (auto& n : nodes)
        if (n->status().peers_ipv4 < peers) return false;
    return true;
}

}  // namespace

TEST_CASE("three nodes join, serve a value, and keep ids and values across a full restart") {
    log::set_level(log::Level::kWarning);
    SystemClock clock;
    test::TempDir dir;
    const std::string network = unique_network();
    const auto key = dht::InfoHash::get("integration-key");

    std::vector<std::string> ids;
    {
        auto nodes = start_network(dir, network, clock, 3);
        REQUIRE(test::wait_until([&] { return all_see_peers(nodes, 2); }, 30s));
        for (auto& n : nodes) ids.push_back(n->runtime().node_id);

        // Put through node 0's overlay, read through node 2's.
        auto done = std::make_shared<std::promise<bool>>();
        auto put_ok = done->get_future();
        nodes[0]->overlay()->runner().put(key, test::text_value("kept across restarts"),
                                         [done](bool ok) { done->set_value(ok); });
        nodes[0]->overlay()->wake();
        REQUIRE(put_ok.wait_for(30s) == std::future_status::ready);
        REQUIRE(put_ok.get());
        test::TestClient reader(nodes[0]->overlay()->network_id(), nodes[2]->runtime().dht_port_ipv4);
        REQUIRE(reader.wait_peers(1));
        CHECK(reader.get(key) == std::vector<std::string>{"kept across restarts"});
        reader.stop();

        // A second node on the same data directory is refused.
        auto twin = Node::open(node_config(dir / "node1", network, std::nullopt), system_node_env(clock));
        CHECK(twin.status().code() == Code::kBusy);

        for (auto& n : nodes) REQUIRE(n->stop().is_ok());
    }

    auto nodes = start_network(dir, network, clock, 3);
    for (size_t i = 0; i < nodes.size(); ++i) CHECK(nodes[i]->runtime().node_id == ids[i]);
    // Every node restored the value from its own database before joining.
    for (auto& n : nodes) CHECK(n->status().values_stored >= 1);
    REQUIRE(test::wait_until([&] { return all_see_peers(nodes, 2); }, 30s));
    // A peer that never saw the value finds it in the restarted network.
    test::TestClient fresh(nodes[0]->overlay()->network_id(), nodes[1]->runtime().dht_port_ipv4);
    REQUIRE(fresh.wait_peers(1));
    CHECK(fresh.get(key) == std::vector<std::string>{"kept across restarts"});
    fresh.stop();
    for (auto& n : nodes) REQUIRE(n->stop().is_ok());
}

TEST_CASE("the store policy refuses a changed value under a stored id, and counts it") {
    log::set_level(log::Level::kWarning);
    SystemClock clock;
    test::TempDir dir;
    auto nodes = start_network(dir, unique_network(), clock, 1);
    test::TestClient client(nodes[0]->overlay()->network_id(), nodes[0]->runtime().dht_port_ipv4);
    REQUIRE(client.wait_peers(1));
    const auto key = dht::InfoHash::get("policy-key");
    REQUIRE(client.put(key, test::text_value("first", 77)));
    REQUIRE(test::wait_until([&] { return nodes[0]->status().values_accepted >= 1; }, 10s));
    // OpenDHT 2.4.12 reports success to the writer even when refused.
    client.put(key, test::text_value("replaced", 77));
    REQUIRE(test::wait_until([&] { return nodes[0]->status().values_refused >= 1; }, 10s));
    client.stop();  // it holds its own copy of "replaced"
    test::TestClient reader(nodes[0]->overlay()->network_id(), nodes[0]->runtime().dht_port_ipv4);
    REQUIRE(reader.wait_peers(1));
    CHECK(reader.get(key) == std::vector<std::string>{"first"});
    reader.stop();
    REQUIRE(nodes[0]->stop().is_ok());
}
