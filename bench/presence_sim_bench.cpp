// Membership and presence on the simulated network (virtual time, the same
// cores a node runs):
//   1. presence delivery latency: N nodes, one user each, every user watched
//      by W others, random changes; time from a change at its host to each
//      watcher's node, p50 and p99;
//   2. failure detection: a node is killed; time until every other node has
//      declared it dead, next to what the configuration promises;
//   3. traffic against interest: one node whose local users watch 10% of
//      the changing users, then 100%; the presence bytes it receives per
//      second, next to what broadcasting every change to every node would
//      bring it;
//   4. false deaths: a long run with 5% loss, no failures.
// Usage: presence_sim_bench [NODES] [MINUTES] (default 1000 nodes, 30 minutes for 4).
#include <cstdio>
#include <cstdlib>
#include <map>

#include "testing/bench_util.h"
#include "sim/gossip_cluster.h"

using namespace dhtalk;
using namespace std::chrono;

namespace {

std::string user(size_t i) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "%040zx", i + 0x100000);
    return buf;
}

}  // namespace

int main(int argc, char** argv) {
    const size_t n = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 1000;
    const int minutes_run = argc > 2 ? std::atoi(argv[2]) : 30;
    const size_t watchers_per_user = 5;
    const uint64_t seed = 42;
    std::printf("membership and presence, simulated: %zu nodes, 50 ms median one-way latency\n\n", n);

    // 1 and 2: delivery latency, then detection, at 1% loss.
    {
        const double w0 = bench::wall_seconds();
        GossipCluster c(n, SwimConfig{}, simulated_link(0.01, seed), seed);
        Rng rng(seed);
        c.run_until(seconds(5));
        for (size_t i = 0; i < n; ++i) c.login(i, user(i));
        for (size_t i = 0; i < n; ++i)
            for (size_t k = 0; k < watchers_per_user; ++k) {
                size_t w = rng.uniform(n);
                if (w == i) w = (w + 1) % n;
                c.watch(w, user(w), user(i));
            }
        c.run_until(c.now() + seconds(15));
        const size_t before = c.delivered().size();
        std::map<std::string, milliseconds> changed_at;  // user -> time of its last change
        std::vector<double> latency_ms;
        const int changes = 1000;
        size_t seen = before;
        for (int k = 0; k < changes; ++k) {
            const size_t host = rng.uniform(n);
            const std::string status = "change " + std::to_string(k);
            c.set_presence(host, user(host), k % 2 ? "away" : "busy", status).ignore_error();
            changed_at[status] = c.now();
            c.run_until(c.now() + milliseconds(50));
            for (; seen < c.delivered().size(); ++seen) {
                const auto& d = c.delivered()[seen];
                auto it = changed_at.find(d.delivery.presence.status);
                if (it != changed_at.end()) latency_ms.push_back(static_cast<double>((d.at - it->second).count()));
            }
        }
        c.run_until(c.now() + seconds(10));
        for (; seen < c.delivered().size(); ++seen) {
            const auto& d = c.delivered()[seen];
            auto it = changed_at.find(d.delivery.presence.status);
            if (it != changed_at.end()) latency_ms.push_back(static_cast<double>((d.at - it->second).count()));
        }
        std::printf("1. delivery, 1%% loss: %zu deliveries of %d changes (%zu watchers each): p50 %.0f ms, p99 %.0f ms, max %.0f ms\n",
                    latency_ms.size(), changes, watchers_per_user, bench::percentile(latency_ms, 0.5),
                    bench::percentile(latency_ms, 0.99), bench::percentile(latency_ms, 1.0));

        const size_t victim = n / 2;
        const auto bound = c.node(0).detection_bound();
        c.stop(victim);
        const auto t0 = c.now();
        const size_t history_before = c.history().size();
        c.run_until(t0 + bound * 2);
        std::vector<double> declared;
        for (size_t h = history_before; h < c.history().size(); ++h) {
            const auto& o = c.history()[h];
            if (o.event.id == c.id(victim) && o.event.state == MemberState::kDead)
                declared.push_back(static_cast<double>(duration_cast<milliseconds>(o.event.at - c.start()).count() -
                                                       t0.count()));
        }
        std::printf("2. detection: %zu/%zu nodes declared the killed node dead; p50 %.1f s, last %.1f s; promised %.1f s\n",
                    declared.size(), n - 1, bench::percentile(declared, 0.5) / 1000, bench::percentile(declared, 1.0) / 1000,
                    static_cast<double>(bound.count()) / 1000);
        std::printf("   (wall time %.1f s)\n", bench::wall_seconds() - w0);
    }

    // 3: traffic against interest. U users on nodes other than the observer
    // change at a fixed rate; the observer's users watch 10%, then 100% of them.
    {
        const size_t nodes = std::min<size_t>(n, 200), users = 100, observer = 0;
        const int changes_per_s = 20, seconds_measured = 60;
        for (double share : {0.1, 1.0}) {
            GossipCluster c(nodes, SwimConfig{}, simulated_link(0.01, seed + 1), seed + 1);
            Rng rng(seed + 2);
            c.run_until(seconds(5));
            for (size_t u = 0; u < users; ++u) c.login(1 + u % (nodes - 1), user(u));
            const size_t watched = static_cast<size_t>(share * static_cast<double>(users));
            for (size_t u = 0; u < watched; ++u) c.watch(observer, user(100000 + u % 10), user(u));
            c.run_until(c.now() + seconds(15));
            const uint64_t in0 = c.presence_bytes_received(observer);
            const uint64_t got0 = c.presence(observer).counters().presence_received;
            for (int k = 0; k < changes_per_s * seconds_measured; ++k) {
                const size_t u = rng.uniform(users);
                c.set_presence(1 + u % (nodes - 1), user(u), k % 2 ? "away" : "busy", std::to_string(k)).ignore_error();
                c.run_until(c.now() + milliseconds(1000 / changes_per_s));
            }
            const double in = static_cast<double>(c.presence_bytes_received(observer) - in0) / seconds_measured;
            const double got = static_cast<double>(c.presence(observer).counters().presence_received - got0) / seconds_measured;
            // A broadcast design brings every node every change: one message each.
            const double message_bytes = got > 0 ? in / got : 0;
            std::printf("3. interest %3.0f%%: the observer receives %6.0f presence bytes/s (%5.1f changes/s); "
                        "broadcast would bring it %d changes/s, about %6.0f bytes/s (%zu users, %zu nodes)\n",
                        share * 100, in, got, changes_per_s, message_bytes * changes_per_s, users, nodes);
        }
    }

    // 4: no failures, 5% loss, a long run: no live node may be declared dead.
    if (minutes_run > 0) {
        const double w0 = bench::wall_seconds();
        GossipCluster c(n, SwimConfig{}, simulated_link(0.05, seed + 3), seed + 3);
        c.run_until(minutes(minutes_run));
        size_t deaths = 0, suspicions = 0;
        for (const auto& o : c.history()) {
            deaths += o.event.state == MemberState::kDead;
            suspicions += o.event.state == MemberState::kSuspect;
        }
        std::printf("4. %d simulated minutes at 5%% loss: %zu deaths declared (of live nodes); %zu suspicion events seen "
                    "over all nodes, every one refuted; %.1f membership datagrams per node per second (wall time %.1f s)\n",
                    minutes_run, deaths, suspicions,
                    static_cast<double>(c.datagrams_sent()) / static_cast<double>(n) / (minutes_run * 60.0),
                    bench::wall_seconds() - w0);
    }
    return 0;
}
