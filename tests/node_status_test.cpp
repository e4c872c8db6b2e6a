// Status documents: JSON round trip, refusal of malformed answers, Prometheus
// text; and runtime.json.
#include "common/json.h"
#include "node/node_status.h"
#include "node/runtime_info.h"
#include "testing/test_util.h"

#include "tests/doctest.h"

using namespace dhtalk;

TEST_CASE("status JSON round-trips and renders as Prometheus text") {
    NodeStatus s;
    s.node_id = "abc";
    s.network_id = 42;
    s.network = "n";
    s.version = "1.0";
    s.peers_ipv4 = 3;
    s.values_stored = 9;
    s.values_refused = 2;
    s.work_refused = 5;
    auto back = node_status_from_json(to_json(s));
    REQUIRE(back.is_ok());
    CHECK(back->node_id == "abc");
    CHECK(back->peers_ipv4 == 3);
    CHECK(back->values_refused == 2);
    CHECK(back->work_refused == 5);
    const auto prom = to_prometheus(s);
    CHECK(prom.find("dhtalk_values_stored 9\n") != std::string::npos);
    CHECK(prom.find("# TYPE dhtalk_values_refused_total counter\n") != std::string::npos);
    CHECK(prom.find("dhtalk_peers_ipv4 3\n") != std::string::npos);
    CHECK(prom.find("dhtalk_work_refused_total 5\n") != std::string::npos);
}

TEST_CASE("a malformed status answer is refused") {
    NodeStatus s;
    s.node_id = "abc";
    s.version = "1";
    auto base = to_json(s);
    auto broken = [&](const char* field, Json::Value v) {
        auto j = base;
        j[field] = v;
        return node_status_from_json(j);
    };
    CHECK(broken("peers_ipv4", "three").status().code() == Code::kInvalidArgument);
    CHECK(broken("peers_ipv4", Json::UInt64(1) << 40).status().code() == Code::kInvalidArgument);
    CHECK(broken("values_stored", -1).status().code() == Code::kInvalidArgument);
    CHECK(broken("node_id", 5).status().code() == Code::kInvalidArgument);
    auto j = base;
    j.removeMember("uptime_s");
    CHECK_FALSE(node_status_from_json(j).is_ok());
}

TEST_CASE("runtime.json: written, read back, absent, damaged") {
    test::TempDir dir;
    CHECK(read_runtime_info(dir.path()).status().code() == Code::kNotFound);
    RuntimeInfo info;
    info.node_id = "ff00";
    info.network_id = 7;
    info.pid = 1234;
    info.dht_port_ipv4 = 4222;
    info.http_address = "127.0.0.1";
    info.http_port = 8080;
    REQUIRE(write_runtime_info(dir.path(), info).is_ok());
    auto back = read_runtime_info(dir.path());
    REQUIRE(back.is_ok());
    CHECK(back->node_id == "ff00");
    CHECK(back->pid == 1234);
    CHECK(back->http_port == 8080);
    test::write_text(dir / kRuntimeFileName, R"({"node_id": "x", "network_id": 1, "pid": 1, "http_address": "h",)"
                                             R"( "dht_port_ipv4": 70000, "dht_port_ipv6": 0, "http_port": 1})");
    CHECK(read_runtime_info(dir.path()).status().code() == Code::kCorruption);
    test::write_text(dir / kRuntimeFileName, "{ not json");
    CHECK(read_runtime_info(dir.path()).status().code() == Code::kCorruption);
    remove_runtime_info(dir.path());
    CHECK(read_runtime_info(dir.path()).status().code() == Code::kNotFound);
}
