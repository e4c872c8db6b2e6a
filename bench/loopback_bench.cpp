// Put and get latency through a dhtalk node (persistence and store policy on)
// versus a plain OpenDHT DhtRunner, both members of the same loopback
// network, measured in the same run with the operations interleaved so that
// both see the same machine noise. Usage: loopback_bench [NODES] [OPS]
// (default 6 dhtalk nodes, 200 operations of each kind).
#include <cstdio>
#include <cstdlib>
#include <future>
#include <random>
#include <thread>

#include "testing/bench_util.h"
#include "common/log.h"
#include "node/node.h"
#include "testing/test_util.h"

using namespace dhtalk;
using namespace std::chrono;

namespace {

// `node`: the runner is a node's (its loop runs at the overlay's next turn,
// which the overlay is asked for); null: a plain threaded DhtRunner.
double put_ms(dht::DhtRunner& runner, const dht::InfoHash& key, const std::string& data, bool& ok,
              Overlay* node = nullptr) {
    auto done = std::make_shared<std::promise<bool>>();
    auto f = done->get_future();
    const double t0 = bench::wall_seconds();
    runner.put(key, dht::Value(reinterpret_cast<const uint8_t*>(data.data()), data.size()),
               [done](bool success) { done->set_value(success); });
    if (node) node->wake();
    ok = f.wait_for(seconds(30)) == std::future_status::ready && f.get();
    return (bench::wall_seconds() - t0) * 1000;
}

// Time to the first value found.
double get_ms(dht::DhtRunner& runner, const dht::InfoHash& key, bool& found, Overlay* node = nullptr) {
    struct State {
        std::promise<bool> done;
        std::atomic<bool> set{false};
        void finish(bool v) {
            if (!set.exchange(true)) done.set_value(v);
        }
    };
    auto state = std::make_shared<State>();
    auto f = state->done.get_future();
    const double t0 = bench::wall_seconds();
    runner.get(
        key,
        [state](const std::vector<std::shared_ptr<dht::Value>>& values) {
            if (!values.empty()) state->finish(true);
            return values.empty();
        },
        [state](bool) { state->finish(false); });
    if (node) node->wake();
    found = f.wait_for(seconds(30)) == std::future_status::ready && f.get();
    return (bench::wall_seconds() - t0) * 1000;
}

void report(const char* what, const std::vector<double>& ours, const std::vector<double>& raw, int ok_ours,
            int ok_raw) {
    const double p50o = bench::percentile(ours, 0.5), p50r = bench::percentile(raw, 0.5);
    const double p99o = bench::percentile(ours, 0.99), p99r = bench::percentile(raw, 0.99);
    std::printf("%-4s  dhtalk node p50 %7.2f ms p99 %7.2f ms (%d ok)   plain DhtRunner p50 %7.2f ms p99 %7.2f ms "
                "(%d ok)   ratio p50 %.2f p99 %.2f\n",
                what, p50o, p99o, ok_ours, p50r, p99r, ok_raw, p50r > 0 ? p50o / p50r : 0, p99r > 0 ? p99o / p99r : 0);
}

}  // namespace

int main(int argc, char** argv) {
    const int nodes = argc > 1 ? std::atoi(argv[1]) : 6;
    const int ops = argc > 2 ? std::atoi(argv[2]) : 200;
    if (nodes < 2 || nodes > 50 || ops < 1 || ops > 100000) {
        std::fprintf(stderr, "usage: loopback_bench [NODES 2..50] [OPS 1..100000]\n");
        return 2;
    }
    log::set_level(log::Level::kError);
    test::TempDir dir;
    SystemClock clock;
    const std::string network = "bench-" + std::to_string(std::random_device{}());

    std::vector<std::unique_ptr<Node>> members;
    for (int i = 0; i < nodes; ++i) {
        NodeConfig c;
        c.data_dir = dir / ("node" + std::to_string(i));
        c.network = network;
        c.bind = "127.0.0.1";
        c.dht_port = 0;
        c.http_port = 0;
        c.client_port = 0;
        c.client_bind = "127.0.0.1";
        c.persist_interval = seconds(1);  // persistence busier than the default
        c.open = true;                    // the same plain OpenDHT as the baseline
        if (i > 0) c.bootstrap.push_back("127.0.0.1:" + std::to_string(members[0]->runtime().dht_port_ipv4));
        auto n = Node::open(c, system_node_env(clock));
        if (!n) {
            std::fprintf(stderr, "cannot start node: %s\n", n.status().to_string().c_str());
            return 1;
        }
        members.push_back(std::move(n).value());
    }
    dht::DhtRunner raw;
    dht::DhtRunner::Config rc;
    rc.dht_config.node_config.network = members[0]->overlay()->network_id();
    rc.bind4 = dht::SockAddr::resolve("127.0.0.1").front();
    rc.threaded = true;
    raw.run(rc, dht::DhtRunner::Context{});
    raw.bootstrap("127.0.0.1", std::to_string(members[1]->runtime().dht_port_ipv4));
    // Each dhtalk node's periodic work (value snapshots) runs as in dhtalk-node.
    std::atomic<bool> quit{false};
    std::thread ticker([&] {
        while (!quit) {
            for (auto& m : members) m->tick();
            std::this_thread::sleep_for(milliseconds(50));
        }
    });
    // Joined: every member knows every other member and the plain runner.
    const bool joined = test::wait_until(
        [&] {
            if (raw.getNodesStats(AF_INET).getKnownNodes() < static_cast<unsigned>(nodes)) return false;
            for (auto& m : members)
                if (m->status().peers_ipv4 + 1 < static_cast<unsigned>(nodes)) return false;
            return true;
        },
        seconds(30));
    std::printf("network of %d dhtalk nodes + 1 plain DhtRunner on loopback%s\n", nodes,
                joined ? "" : " (not fully joined after 30 s)");
    for (auto& m : members) std::printf("  member knows %u peers\n", m->status().peers_ipv4);
    std::printf("  plain runner knows %u peers\n", raw.getNodesStats(AF_INET).getKnownNodes());

    Overlay* node = members[0]->overlay();
    dht::DhtRunner& ours = node->runner();
    std::mt19937_64 rng(7);
    std::vector<double> put_o, put_r, get_o, get_r;
    int put_ok_o = 0, put_ok_r = 0, get_ok_o = 0, get_ok_r = 0;
    std::vector<dht::InfoHash> keys;
    const std::string payload(200, 'x');
    for (int i = 0; i < ops; ++i) {
        bool ok;
        const auto ko = dht::InfoHash::getRandom(rng), kr = dht::InfoHash::getRandom(rng);
        // Alternate which goes first so neither always meets a warmer cache.
        if (i % 2 == 0) {
            put_o.push_back(put_ms(ours, ko, payload, ok, node));
            put_ok_o += ok;
            put_r.push_back(put_ms(raw, kr, payload, ok));
            put_ok_r += ok;
        } else {
            put_r.push_back(put_ms(raw, kr, payload, ok));
            put_ok_r += ok;
            put_o.push_back(put_ms(ours, ko, payload, ok, node));
            put_ok_o += ok;
        }
        // Keys for the gets come from a third node, so neither reader holds them by writing.
        const auto kg = dht::InfoHash::getRandom(rng);
        put_ms(members[nodes - 1]->overlay()->runner(), kg, payload, ok, members[nodes - 1]->overlay());
        keys.push_back(kg);
    }
    for (int i = 0; i < ops; ++i) {
        bool found;
        if (i % 2 == 0) {
            get_o.push_back(get_ms(ours, keys[i], found, node));
            get_ok_o += found;
            get_r.push_back(get_ms(raw, keys[i], found));
            get_ok_r += found;
        } else {
            get_r.push_back(get_ms(raw, keys[i], found));
            get_ok_r += found;
            get_o.push_back(get_ms(ours, keys[i], found, node));
            get_ok_o += found;
        }
    }
    report("put", put_o, put_r, put_ok_o, put_ok_r);
    report("get", get_o, get_r, get_ok_o, get_ok_r);
    uint64_t snapshots = 0;
    for (auto& m : members) snapshots += m->status().snapshots;
    std::printf("value snapshots written meanwhile by the dhtalk nodes: %llu\n",
                static_cast<unsigned long long>(snapshots));

    quit = true;
    ticker.join();
    auto done = std::make_shared<std::promise<void>>();
    raw.shutdown([done] { done->set_value(); }, true);
    done->get_future().wait_for(seconds(5));
    raw.join();
    for (auto& m : members) m->stop().ignore_error();
    return 0;
}
