// What a simulated minute of whole dhtalk nodes costs in wall time as the
// network grows, beside bare OpenDHT nodes of the same count on the same
// links (the baseline, measured in the same run). For each N: a
// dhtalk-swarm trial of N whole nodes with 5 users each and a steady
// workload (per node and second: 0.1 resolves, 0.01 vCard updates, 0.02
// presence changes, 0.04 messages), whose warm-up and measurement (90
// virtual seconds) are timed; then N bare nodes that have joined and run a
// settled minute (sim_swarm_bench's figure). Each in a child process of its
// own, so that one's memory does not weigh on the next. Also printed: the
// wall time of founding by vote and of registering, which grow faster.
//
// Usage: swarm_scale_bench [N ...] (default 10 20 40); with --plot DIR, also
// DIR/swarm_scale.dat and DIR/swarm_scale.png (gnuplot).
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/log.h"
#include "sim/sim_swarm.h"
#include "sim/swarm/swarm_run.h"
#include "testing/bench_util.h"
#include "testing/test_util.h"

using namespace dhtalk;
using namespace std::chrono;

namespace {

constexpr double kWarmupS = 30, kMeasureS = 60;

struct Row {
    double whole_per_min = 0, bare_per_min = 0, founding_s = 0, registering_s = 0;
};

// Runs `measure` in a child process and reads back the doubles it wrote.
std::vector<double> in_child(const std::function<std::vector<double>()>& measure) {
    int fds[2];
    if (::pipe(fds) != 0) return {};
    std::fflush(nullptr);
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::close(fds[0]);
        const auto v = measure();
        const bool ok = ::write(fds[1], v.data(), v.size() * sizeof(double)) == static_cast<ssize_t>(v.size() * sizeof(double));
        ::_exit(ok && !v.empty() ? 0 : 1);
    }
    ::close(fds[1]);
    std::vector<double> out;
    double d;
    while (::read(fds[0], &d, sizeof d) == static_cast<ssize_t>(sizeof d)) out.push_back(d);
    ::close(fds[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? out : std::vector<double>{};
}

std::vector<double> whole_nodes(size_t n) {
    test::TempDir dir;
    Scenario s;
    s.nodes = n;
    s.users_per_node = 5;
    const double per_node = static_cast<double>(n);
    s.resolves_per_s = 0.1 * per_node;
    s.vcards_per_s = 0.01 * per_node;
    s.presence_per_s = 0.02 * per_node;
    s.messages_per_s = 0.04 * per_node;
    s.warmup_s = kWarmupS;
    s.measure_s = kMeasureS;
    s.drain_s = 0;
    auto t = run_swarm_trial(s, 0, dir.path() / "trial");
    if (!t) {
        std::fprintf(stderr, "%zu whole nodes: %s\n", n, t.status().message().c_str());
        return {};
    }
    return {t->wall_running_s / ((kWarmupS + kMeasureS) / 60.0), t->wall_founding_s, t->wall_registering_s};
}

std::vector<double> bare_nodes(size_t n) {
    SwarmConfig config;
    config.seed = 1;
    config.link.median_latency = milliseconds(20);  // as the whole nodes' default link
    SimSwarm swarm(config);
    swarm.add_nodes(n, milliseconds(20));
    swarm.network().run_for(seconds(60));  // the routing tables converge
    const double t0 = bench::wall_seconds();
    swarm.network().run_for(seconds(60));
    return {bench::wall_seconds() - t0};
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<size_t> sizes;
    std::filesystem::path plot_dir;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--plot") == 0 && i + 1 < argc) {
            plot_dir = argv[++i];
            continue;
        }
        char* end = nullptr;
        const unsigned long v = std::strtoul(argv[i], &end, 10);
        if (!end || *end || v < 2 || v > 10000) {
            std::fprintf(stderr, "usage: swarm_scale_bench [N ...] [--plot DIR]   (each N 2..10000)\n");
            return 2;
        }
        sizes.push_back(v);
    }
    if (sizes.empty()) sizes = {10, 20, 40};
    log::set_level(log::Level::kError);

    std::printf("wall seconds per simulated minute: whole dhtalk nodes (5 users each, steady workload) against bare "
                "OpenDHT nodes (the baseline, same links, same run)\n");
    std::printf("%7s %14s %14s %8s %14s %14s\n", "nodes", "whole s/min", "bare s/min", "ratio", "founding s", "registering s");
    std::vector<std::pair<size_t, Row>> rows;
    for (size_t n : sizes) {
        const auto whole = in_child([n] { return whole_nodes(n); });
        const auto bare = in_child([n] { return bare_nodes(n); });
        if (whole.size() != 3 || bare.size() != 1) {
            std::fprintf(stderr, "the run of %zu nodes failed\n", n);
            return 1;
        }
        Row r{whole[0], bare[0], whole[1], whole[2]};
        std::printf("%7zu %14.2f %14.3f %8.1f %14.1f %14.1f\n", n, r.whole_per_min, r.bare_per_min,
                    r.bare_per_min > 0 ? r.whole_per_min / r.bare_per_min : 0.0, r.founding_s, r.registering_s);
        std::fflush(stdout);
        rows.emplace_back(n, r);
    }
    if (!plot_dir.empty()) {
        std::filesystem::create_directories(plot_dir);
        std::vector<std::pair<double, std::vector<double>>> points;
        for (const auto& [n, r] : rows) points.push_back({static_cast<double>(n), {r.whole_per_min, r.bare_per_min}});
        bench::plot_loglog(plot_dir.string(), "swarm_scale", "nodes", "wall seconds per simulated minute",
                           {"whole dhtalk nodes", "bare OpenDHT nodes"}, points);
    }
    return 0;
}
