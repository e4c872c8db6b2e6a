// Messages between users of whole dhtalk nodes on the simulated network,
// with churn (issue 11's figure). NODES members are founded and admitted by
// vote; then the workload of sim/message_workload.h: USERS register and
// follow their inbox, random pairs exchange MESSAGES messages over RUN
// virtual seconds, calm in the first half (the baseline), while CHURN of
// the nodes crash and restart in the second.
//
// Counted: messages sent, stored, delivered (first copy at the recipient),
// lost (stored, never delivered), copies handed over again after the
// recipient had one (the client's history drops them: none is shown
// twice), and delivery latency (first send to first copy) per phase, next to
// the link's round trip. The simulator hands requests between members over
// at once (sim_nodes.h), and clients look every 5 ms: the latency here
// leaves out the hops between members and shows what failovers add;
// message_bench measures the whole path on real sockets. Two runs from
// one seed are the same, to the replay digest.
//
// Usage: message_sim_bench [NODES=50] [USERS=1000] [MESSAGES=2000] [CHURN=0.1] [RUN_S=120] [SEED=1]
#include <cstdio>
#include <cstdlib>

#include "common/log.h"
#include "crypto/node_identity.h"
#include "crypto/user_certificate.h"
#include "sim/message_workload.h"
#include "sim/sim_nodes.h"
#include "sim/sim_ops.h"
#include "testing/bench_util.h"
#include "testing/test_util.h"

using namespace dhtalk;
using namespace std::chrono;

int main(int argc, char** argv) {
    const size_t nodes = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 50;
    MessageWorkloadConfig w;
    w.users = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 1000;
    w.messages = argc > 3 ? std::strtoul(argv[3], nullptr, 10) : 2000;
    w.churn = argc > 4 ? std::atof(argv[4]) : 0.1;
    w.run = seconds(argc > 5 ? std::atol(argv[5]) : 120);
    w.seed = argc > 6 ? std::strtoull(argv[6], nullptr, 10) : 1;
    if (nodes < 3 || w.users < 2 || w.run.count() < 10 || w.churn < 0 || w.churn > 0.5) {
        std::fprintf(stderr, "usage: message_sim_bench [NODES>=3] [USERS>=2] [MESSAGES] [CHURN 0-0.5] [RUN_S>=10] [SEED]\n");
        return 2;
    }
    log::set_level(log::Level::kWarning);  // fifty nodes' routine lines would bury the figures
    // The real time: steady_clock reads the simulation's virtual clock.
    const auto wall_start = system_clock::now();
    auto wall = [&] { return duration<double>(system_clock::now() - wall_start).count(); };
    std::printf("messages on whole simulated nodes: %zu nodes, %zu users, %zu messages over %lld s, %.0f%% of nodes "
                "crash and restart in the second half, seed %llu\n",
                nodes, w.users, w.messages, static_cast<long long>(w.run.count()), w.churn * 100,
                static_cast<unsigned long long>(w.seed));

    test::TempDir dir;
    SimNodesConfig config;
    config.seed = w.seed;
    config.link.median_latency = 20ms;
    config.dir = dir / "nodes";
    SimNodes sim(config);
    // Keys from the run's seed (sim_entropy.h): the same in every replay.
    std::vector<std::filesystem::path> identities;
    for (size_t i = 0; i < nodes; ++i) {
        identities.push_back(dir / ("identity-" + std::to_string(i)));
        if (!crypto::load_or_create_identity(identities.back(), 2048)) return 1;
    }
    std::vector<std::shared_ptr<dht::crypto::PrivateKey>> user_keys;
    for (size_t u = 0; u < w.users; ++u) user_keys.push_back(crypto::generate_user_key().value());

    for (size_t i = 0; i < nodes; ++i) {
        sim.add_slot();
        if (Status s = sim.set_identity(i, identities[i]); !s) return std::fprintf(stderr, "%s\n", s.message().c_str()), 1;
    }
    w.base.network = "sim-messages";
    w.base.roster_interval = 1s;
    w.base.persist_interval = 30s;
    if (Status s = sim_found(sim, nodes, w.base, identities); !s) {
        std::fprintf(stderr, "founding failed: %s\n", s.message().c_str());
        return 1;
    }
    sim.network().run_for(10s);  // the membership protocol settles
    std::printf("founded and admitted by vote: %.1f s wall\n", wall());

    auto r = run_message_workload(sim, nodes, w, user_keys, [&](double done, double total) {
        std::fprintf(stderr, "\rvirtual %5.0f s of %.0f, wall %6.1f s", done, total, wall());
    });
    std::fprintf(stderr, "\n");
    if (!r) return std::fprintf(stderr, "the workload failed: %s\n", r.status().message().c_str()), 1;
    std::printf("\nsent %zu, stored %zu, delivered %zu, lost %zu, shown twice 0 "
                "(copies handed over again and dropped by the client: %zu)\n",
                r->sent, r->stored, r->delivered, r->lost, r->redelivered);
    std::printf("churn: %zu of %zu nodes crashed and restarted; %zu client failovers, %zu sends retried\n", r->churned,
                nodes, r->failovers, r->retries);
    std::printf("delivery latency, calm half:  p50 %.1f ms, p99 %.1f ms (%zu messages)\n",
                bench::percentile(r->calm_latency_ms, 0.5), bench::percentile(r->calm_latency_ms, 0.99),
                r->calm_latency_ms.size());
    std::printf("delivery latency, churn half: p50 %.1f ms, p99 %.1f ms (%zu messages)\n",
                bench::percentile(r->churn_latency_ms, 0.5), bench::percentile(r->churn_latency_ms, 0.99),
                r->churn_latency_ms.size());
    std::printf("baseline: the link's round trip, median %.1f ms (one way %lld ms, log-normal)\n",
                2.0 * static_cast<double>(config.link.median_latency.count()) / 1000.0,
                static_cast<long long>(config.link.median_latency.count() / 1000));
    std::printf("wall time %.1f s; replay digest %llu\n", wall(),
                static_cast<unsigned long long>(sim.network().history_digest()));
    return r->lost == 0 && r->stored == r->sent ? 0 : 1;
}
