// Redirects on a loopback network of dhtalk-node processes: every node sends
// logins on above THRESHOLD sessions; clients all name node 0. The first
// THRESHOLD logins stay there (the baseline: where clients land with no
// node over its threshold), and the logins after them are sent on: the
// share each node gets, and the login time with and without a redirect
// (one more TLS handshake and hello) from the same run. Sessions stay open
// to the end, so each node's load grows as the membership protocol reports it.
// Usage: redirect_bench [NODES] [THRESHOLD] [LOGINS] (default 4 nodes, 50, 200).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>

#include "common/log.h"
#include "testing/bench_util.h"
#include "testing/loopback_network.h"

using namespace dhtalk;
using namespace std::chrono;

int main(int argc, char** argv) {
    const int nodes = argc > 1 ? std::atoi(argv[1]) : 4;
    const int threshold = argc > 2 ? std::atoi(argv[2]) : 50;
    const int logins = argc > 3 ? std::atoi(argv[3]) : 200;
    if (nodes < 2 || threshold < 1 || logins <= threshold) {
        std::fprintf(stderr, "usage: redirect_bench [NODES >= 2] [THRESHOLD >= 1] [LOGINS > THRESHOLD]\n");
        return 2;
    }
    log::set_level(log::Level::kWarning);
    test::TempDir dir;
    bench::LoopbackNetwork network(dir.path(), nodes,
                                   {"--network", "redirect-bench", "--redirect-above", std::to_string(threshold),
                                    "--max-sessions-per-address", "100000", "--client-rate", "100000"});
    auto& net = network.nodes();
    // Node 0 sends logins only to members whose load it has heard, which
    // its membership protocol brings within a few periods.
    test::wait_until([&] { return network.status(net[0])["members_alive"].asInt() == nodes - 1; }, seconds(60));
    auto everyone_heard = [&] {
        client::ClientOptions o;
        o.profile_dir = dir / "observer";
        o.nodes = {net[0].client()};
        auto c = client::Client::open(o);
        if (!c) return false;
        auto listed = (*c)->nodes();
        if (!listed) return false;
        return std::all_of(listed->begin(), listed->end(), [](const client::NodeInfo& n) { return n.capacity > 0; });
    };
    if (!test::wait_until(everyone_heard, seconds(30))) {
        std::fprintf(stderr, "node 0 never heard every member's load\n");
        return 1;
    }

    // One user, its profile copied for each session: a user may hold many.
    auto registered = network.register_user(1, net[1]);
    const std::filesystem::path profile = registered->profile().dir;
    registered.reset();

    std::map<std::string, int> index_of;
    for (int i = 0; i < nodes; ++i) index_of[net[static_cast<size_t>(i)].client()] = i;
    std::vector<std::unique_ptr<client::Client>> held;
    std::vector<int> landed_below(static_cast<size_t>(nodes)), landed_above(static_cast<size_t>(nodes));
    std::vector<double> stay_ms, moved_ms;
    for (int k = 0; k < logins; ++k) {
        const auto copy = dir / ("session" + std::to_string(k));
        std::filesystem::copy(profile, copy, std::filesystem::copy_options::recursive);
        client::ClientOptions o;
        o.profile_dir = copy;
        o.nodes = {net[0].client()};
        o.timeout = seconds(10);
        auto c = client::Client::open(o);
        if (!c) return 1;
        const double t0 = bench::wall_seconds();
        Status s = (*c)->set_presence("available", "");  // the first call logs in
        const double ms = (bench::wall_seconds() - t0) * 1000;
        if (!s) {
            std::fprintf(stderr, "login %d failed: %s\n", k, s.to_string().c_str());
            return 1;
        }
        const int at = index_of.count((*c)->node()) ? index_of[(*c)->node()] : -1;
        if (at < 0) return 1;
        (k < threshold ? landed_below : landed_above)[static_cast<size_t>(at)]++;
        (at == 0 ? stay_ms : moved_ms).push_back(ms);
        held.push_back(std::move(c).value());
    }

    std::printf("redirects, %d dhtalk-node processes on loopback, --redirect-above %d, %d logins all naming node 0\n\n",
                nodes, threshold, logins);
    std::printf("node   first %d logins (baseline: none over)   next %d logins (node 0 over its threshold)\n",
                threshold, logins - threshold);
    double sum = 0, sq = 0;
    for (int i = 0; i < nodes; ++i) {
        const auto idx = static_cast<size_t>(i);
        std::printf("%4d   %5d  (%5.1f%%)                      %5d  (%5.1f%%)\n", i, landed_below[idx],
                    100.0 * landed_below[idx] / threshold, landed_above[idx],
                    100.0 * landed_above[idx] / (logins - threshold));
        if (i > 0) {
            sum += landed_above[idx];
            sq += static_cast<double>(landed_above[idx]) * landed_above[idx];
        }
    }
    const double mean = sum / (nodes - 1);
    const double cv = mean > 0 ? std::sqrt(std::max(0.0, sq / (nodes - 1) - mean * mean)) / mean : 0;
    std::printf("\nspread over the other %d nodes: coefficient of variation %.2f\n", nodes - 1, cv);
    std::printf("login, kept by node 0      p50 %6.2f ms  p90 %6.2f ms  (%zu)\n", bench::percentile(stay_ms, 0.5),
                bench::percentile(stay_ms, 0.9), stay_ms.size());
    std::printf("login, sent on once        p50 %6.2f ms  p90 %6.2f ms  (%zu)\n", bench::percentile(moved_ms, 0.5),
                bench::percentile(moved_ms, 0.9), moved_ms.size());
    return 0;
}
