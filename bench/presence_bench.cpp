// Presence on a loopback network of dhtalk-node processes (sealed overlay):
// the time from `presence set` by a user on one node to the change reaching
// a watcher's client on another node, over many changes, next to the
// round-trip time of a plain request to the front end measured in the same
// run (the floor of anything a client sees).
// Usage: presence_bench [NODES] [CHANGES] (default 10 nodes, 1000 changes).
#include <atomic>
#include <cstdio>
#include <map>
#include <mutex>
#include <thread>

#include "testing/bench_util.h"
#include "testing/loopback_network.h"
#include "common/log.h"

using namespace dhtalk;
using namespace std::chrono;

int main(int argc, char** argv) {
    const int nodes = argc > 1 ? std::atoi(argv[1]) : 10;
    const int changes = argc > 2 ? std::atoi(argv[2]) : 1000;
    log::set_level(log::Level::kWarning);
    test::TempDir dir;
    auto owned = std::make_unique<bench::LoopbackNetwork>(dir.path(), nodes, std::vector<std::string>{"--network", "presence-bench"});
    auto& network = *owned;
    auto& net = network.nodes();
    test::wait_until([&] { return network.status(net[0])["members_alive"].asInt() == nodes - 1; }, seconds(60));

    auto author = network.register_user(1, net[0]);
    auto watcher = network.register_user(2, net[static_cast<size_t>(nodes / 2)]);
    const std::string author_id = author->profile().user_id;

    std::mutex mutex;
    std::map<std::string, double> arrived;  // status -> wall seconds
    std::atomic<bool> ready{false};
    std::thread watching([&] {
        watcher->watch_presence({author_id}, [&](const FrameParams& p) {
            const double t = bench::wall_seconds();
            auto it = p.find("status");
            if (it == p.end()) return true;
            std::lock_guard lock(mutex);
            arrived[std::get<std::string>(it->second)] = t;
            ready = true;
            return true;
        }).ignore_error();  // ends when the network is torn down
    });
    if (!author->set_presence("available", "start")) return 1;
    test::wait_until([&] { return ready.load(); }, seconds(30));

    std::vector<double> latency_ms, rtt_ms;
    std::map<std::string, double> sent;
    for (int k = 0; k < changes; ++k) {
        const std::string status = "change " + std::to_string(k);
        const double t0 = bench::wall_seconds();
        if (!author->set_presence(k % 2 ? "away" : "busy", status)) return 1;
        sent[status] = t0;
        const double r0 = bench::wall_seconds();
        if (author->call("hello", {})) rtt_ms.push_back((bench::wall_seconds() - r0) * 1000);
        std::this_thread::sleep_for(milliseconds(30));  // under the per-session request rate
    }
    test::wait_until([&] {
        std::lock_guard lock(mutex);
        return arrived.count("change " + std::to_string(changes - 1)) > 0;
    }, seconds(10));
    size_t missing = 0;
    {
        std::lock_guard lock(mutex);
        for (const auto& [status, t0] : sent) {
            auto it = arrived.find(status);
            if (it == arrived.end()) missing++;
            else latency_ms.push_back((it->second - t0) * 1000);
        }
    }
    std::printf("presence, %d dhtalk-node processes on loopback (sealed), author on node 0, watcher on node %d\n\n",
                nodes, nodes / 2);
    std::printf("set -> watcher's client   p50 %6.2f ms  p99 %6.2f ms  (%zu of %d changes seen, %zu superseded or lost)\n",
                bench::percentile(latency_ms, 0.5), bench::percentile(latency_ms, 0.99), latency_ms.size(), changes,
                missing);
    std::printf("baseline: request RTT    p50 %6.2f ms  p99 %6.2f ms  (hello to the author's node)\n",
                bench::percentile(rtt_ms, 0.5), bench::percentile(rtt_ms, 0.99));
    // Stopping the nodes closes the watcher's connection, which ends its thread.
    owned.reset();
    watching.join();
    return 0;
}
