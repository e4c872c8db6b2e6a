// The client front end on a loopback network of dhtalk-node processes:
//   1. resolve latency through the front end (TLS, request, DHT get, record
//      checks on the node and in the client) versus a plain OpenDHT get of
//      the same value by a stock DhtRunner in the same network, interleaved;
//   2. resolves per second one node sustains with many concurrent TLS
//      sessions (each keeps one request in flight);
//   3. time to register a user beyond the SMS (the register and verify
//      requests: code sent to the provider, key made, certificate issued),
//      next to the time the client spends making its key;
//   4. the node's memory per logged-in session (its resident size before
//      and after the sessions open, over their number), and its resident
//      size after the resolves.
// The network is founded in open mode (a roster and votes, plain OpenDHT
// datagrams) so that the stock runner can take part. Nodes are separate
// processes, built beside this program.
// Usage: client_bench [NODES] [SESSIONS] [RESOLVES] [SECONDS] (default 10 1000 1000 5).
#include <sys/epoll.h>
#include <sys/resource.h>

#include <atomic>
#include <cstdio>
#include <future>
#include <thread>

#include <opendht/dhtrunner.h>

#include "testing/bench_util.h"
#include "testing/loopback_network.h"
#include "common/log.h"
#include "crypto/signing.h"
#include "crypto/user_certificate.h"
#include "testing/test_util.h"
#include "client/client.h"

using namespace dhtalk;
using namespace std::chrono;

namespace {

// Until the get is done, as the front end waits (it keeps the highest sequence).
double raw_get_ms(dht::DhtRunner& runner, const dht::InfoHash& key, bool& found) {
    auto done = std::make_shared<std::promise<bool>>();
    auto any = std::make_shared<std::atomic<bool>>(false);
    auto f = done->get_future();
    const double t0 = bench::wall_seconds();
    runner.get(
        key,
        [any](const std::vector<std::shared_ptr<dht::Value>>& v) {
            if (!v.empty()) *any = true;
            return true;
        },
        [done, any](bool) { done->set_value(any->load()); });
    found = f.wait_for(seconds(30)) == std::future_status::ready && f.get();
    return (bench::wall_seconds() - t0) * 1000;
}

void print_row(const char* what, const std::vector<double>& v, const std::vector<double>& base) {
    const double p50 = bench::percentile(v, 0.5), p99 = bench::percentile(v, 0.99);
    const double b50 = bench::percentile(base, 0.5), b99 = bench::percentile(base, 0.99);
    std::printf("%-34s p50 %8.2f ms  p99 %8.2f ms | baseline p50 %8.2f  p99 %8.2f | ratio p50 %.2f p99 %.2f\n", what,
                p50, p99, b50, b99, b50 > 0 ? p50 / b50 : 0, b99 > 0 ? p99 / b99 : 0);
}

}  // namespace

int main(int argc, char** argv) {
    const int nodes = argc > 1 ? std::atoi(argv[1]) : 10;
    const int sessions = argc > 2 ? std::atoi(argv[2]) : 1000;
    const int resolves = argc > 3 ? std::atoi(argv[3]) : 1000;
    const int seconds_run = argc > 4 ? std::atoi(argv[4]) : 5;
    const int users = 20;
    log::set_level(log::Level::kWarning);
    rlimit lim{};
    getrlimit(RLIMIT_NOFILE, &lim);
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);

    test::TempDir dir;
    bench::LoopbackNetwork network(dir.path(), nodes,
                                   {"--max-client-sessions", "100000", "--max-sessions-per-address", "100000",
                                    "--client-rate", "1000000", "--network", "bench", "--open"});
    auto& net = network.nodes();

    dht::DhtRunner raw;
    dht::DhtRunner::Config rc;
    rc.dht_config.node_config.network = net[0].rt.network_id;
    rc.threaded = true;
    // It answers the nodes' requests too, and every one comes from 127.0.0.1:
    // OpenDHT's limit per address would drop most of them.
    rc.dht_config.node_config.max_peer_req_per_sec = -1;
    raw.run(0, rc);
    raw.bootstrap("127.0.0.1", std::to_string(net[1].rt.peer_port));

    // Register users, round-robin over the nodes, and publish their vCards.
    std::vector<double> register_ms, keygen_ms;
    std::vector<std::unique_ptr<client::Client>> clients;
    for (int u = 0; u < users; ++u) {
        const auto& home = net[static_cast<size_t>(u % nodes)];
        double ms = 0;
        auto c = network.register_user(u, home, &ms);
        register_ms.push_back(ms);
        const double k0 = bench::wall_seconds();
        (void)crypto::generate_user_key();
        keygen_ms.push_back((bench::wall_seconds() - k0) * 1000);
        auto seq = c->set_vcard({"user " + std::to_string(u), "benchmarking", "", "", ""});
        if (!seq) {
            std::fprintf(stderr, "publishing failed: %s\n", seq.status().to_string().c_str());
            return 1;
        }
        clients.push_back(std::move(c));
    }

    // Resolve latency: front end vs a plain get of the same key, interleaved.
    // Each user resolves through its own session, in turn, so that no session
    // goes over the per-session rate limit (50 requests per second).
    std::vector<double> front_ms, raw_ms;
    int front_missed = 0, raw_missed = 0;
    for (int i = 0; i < resolves; ++i) {
        auto& resolver = *clients[static_cast<size_t>(i % users)];
        const auto& target = clients[static_cast<size_t>((i / users + i + 1) % users)]->profile().user_id;
        const double t0 = bench::wall_seconds();
        auto r = resolver.call("get", {{"type", std::string("vcard")}, {"user_id", target}});
        front_ms.push_back((bench::wall_seconds() - t0) * 1000);
        if (!r) {
            if (front_missed++ == 0) std::fprintf(stderr, "a resolve failed: %s\n", r.status().to_string().c_str());
        }
        bool found = false;
        raw_ms.push_back(raw_get_ms(raw, record_key(RecordType::kVCard, target), found));
        if (!found) raw_missed++;
        if (i % users == users - 1) std::this_thread::sleep_for(milliseconds(25));  // < 40 per second per session
    }

    // Throughput: many sessions on one node, each with one request in flight.
    const auto& busy = net[0];
    const auto creds = network.login_credentials(0);
    const int threads = 8;
    std::vector<std::vector<std::unique_ptr<client::ClientConnection>>> conns(threads);
    const uint64_t rss_before = bench::rss_bytes(busy.process->pid());
    const double h0 = bench::wall_seconds();
    {
        std::vector<std::thread> openers;
        for (int t = 0; t < threads; ++t)
            openers.emplace_back([&, t] {
                for (int s = t; s < sessions; s += threads) {
                    auto c = client::ClientConnection::open(busy.client(), creds, seconds(60));
                    if (c) conns[static_cast<size_t>(t)].push_back(std::move(c).value());
                }
            });
        for (auto& th : openers) th.join();
    }
    const double handshake_s = bench::wall_seconds() - h0;
    size_t open_sessions = 0;
    for (auto& v : conns) open_sessions += v.size();
    // Each session has made one request, as a client that logged in has:
    // what the node keeps for a session is allocated by then.
    for (auto& v : conns)
        for (auto& c : v) (void)c->call("hello", {}, seconds(30));
    const uint64_t rss_after = bench::rss_bytes(busy.process->pid());
    std::atomic<uint64_t> done{0}, failed{0};
    auto others_cpu = [&] {
        double sum = 0;
        for (const auto& n : net)
            if (&n != &busy) sum += bench::cpu_seconds(n.process->pid());
        return sum;
    };
    const double node_cpu0 = bench::cpu_seconds(busy.process->pid()), own_cpu0 = bench::cpu_seconds();
    const double others_cpu0 = others_cpu();
    const double r0 = bench::wall_seconds();
    {
        std::vector<std::thread> workers;
        for (int t = 0; t < threads; ++t)
            workers.emplace_back([&, t] {
                // Each session keeps one request in flight until the time is
                // up: its next goes out as soon as its reply is in, as the
                // baseline's next get starts when one is done.
                auto& mine = conns[static_cast<size_t>(t)];
                size_t k = static_cast<size_t>(t);
                auto send_next = [&](client::ClientConnection& c) {
                    const auto& target = clients[k++ % clients.size()]->profile().user_id;
                    if (c.send("get", {{"type", std::string("vcard")}, {"user_id", target}})) return true;
                    failed++;
                    return false;
                };
                // Replies are taken as they come (epoll over the sessions):
                // one session's slow reply holds up none of the others, and
                // a reply costs this load generator O(1), not a scan of its
                // sessions (it shares the machine with the node it loads).
                const int ep = ::epoll_create1(EPOLL_CLOEXEC);
                size_t waiting = 0;
                for (size_t i = 0; i < mine.size(); ++i) {
                    if (!send_next(*mine[i])) continue;
                    epoll_event e{};
                    e.events = EPOLLIN;
                    e.data.u64 = i;
                    if (::epoll_ctl(ep, EPOLL_CTL_ADD, mine[i]->fd(), &e) == 0) waiting++;
                }
                epoll_event ready[64];
                while (waiting > 0) {
                    const int n = ::epoll_wait(ep, ready, 64, 30000);
                    if (n <= 0) break;  // 30 s without a reply: the node is gone
                    for (int j = 0; j < n; ++j) {
                        auto& c = *mine[ready[j].data.u64];
                        auto r = c.receive(seconds(30));
                        (r && r->code == 0 ? done : failed)++;
                        if (r && bench::wall_seconds() - r0 < seconds_run && send_next(c)) continue;
                        ::epoll_ctl(ep, EPOLL_CTL_DEL, c.fd(), nullptr);
                        waiting--;
                    }
                }
                ::close(ep);
            });
        for (auto& th : workers) th.join();
    }
    const double elapsed = bench::wall_seconds() - r0;
    const double node_cpu = bench::cpu_seconds(busy.process->pid()) - node_cpu0, own_cpu = bench::cpu_seconds() - own_cpu0;
    const double other_nodes_cpu = others_cpu() - others_cpu0;
    const uint64_t rss_resolved = bench::rss_bytes(busy.process->pid());
    Json::Value status = network.status(busy);

    // Baseline: the stock runner, a node of the same network, keeps as many
    // plain gets of the same keys in flight for as long.
    std::atomic<uint64_t> raw_done{0};
    std::atomic<int> in_flight{0};
    const double raw_node_cpu0 = bench::cpu_seconds(busy.process->pid()) + others_cpu(), raw_own_cpu0 = bench::cpu_seconds();
    const double b0 = bench::wall_seconds();
    for (size_t k = 0; bench::wall_seconds() - b0 < seconds_run; ++k) {
        if (in_flight.load() >= static_cast<int>(open_sessions)) {
            std::this_thread::sleep_for(microseconds(100));
            continue;
        }
        in_flight++;
        raw.get(record_key(RecordType::kVCard, clients[k % clients.size()]->profile().user_id),
                [](const std::vector<std::shared_ptr<dht::Value>>&) { return true; },
                [&](bool) {
                    raw_done++;
                    in_flight--;
                });
    }
    // Those in flight are counted, and their time, as the front end's are.
    test::wait_until([&] { return in_flight.load() == 0; }, seconds(10));
    const double raw_elapsed = bench::wall_seconds() - b0;
    const double raw_nodes_cpu = bench::cpu_seconds(busy.process->pid()) + others_cpu() - raw_node_cpu0;
    const double raw_own_cpu = bench::cpu_seconds() - raw_own_cpu0;

    std::printf("\nclient front end, %d dhtalk-node processes on loopback (open mode), %d users\n\n", nodes, users);
    print_row("resolve via front end vs raw get", front_ms, raw_ms);
    std::printf("%-34s front end missed %d/%d, raw get missed %d/%d\n", "", front_missed, resolves, raw_missed, resolves);
    print_row("register beyond the SMS", register_ms, keygen_ms);
    std::printf("%-34s (baseline: the client's Ed25519 key generation alone)\n", "");
    std::printf("%-34s %zu/%d sessions open in %.1f s (%.0f handshakes/s, most resumed: bench/handshake_bench)\n",
                "TLS sessions on one node", open_sessions, sessions, handshake_s,
                static_cast<double>(open_sessions) / handshake_s);
    std::printf("%-34s %.1f KB per session (node resident %.1f MB before, %.1f MB with the sessions)\n",
                "node memory",
                open_sessions ? (static_cast<double>(rss_after) - static_cast<double>(rss_before)) / 1000.0 /
                                    static_cast<double>(open_sessions)
                              : 0.0,
                static_cast<double>(rss_before) / 1e6, static_cast<double>(rss_after) / 1e6);
    std::printf("%-34s %.0f resolves/s over %.1f s with %zu sessions (%llu failed); node reports %s sessions\n",
                "throughput", static_cast<double>(done) / elapsed, elapsed, open_sessions,
                static_cast<unsigned long long>(failed.load()), status["client_sessions"].asString().c_str());
    std::printf("%-34s CPU: the node %.0f%% of a core, the other nodes %.0f%%, the bench's clients %.0f%%; the node's per "
                "resolve %.0f us\n",
                "", 100 * node_cpu / elapsed, 100 * other_nodes_cpu / elapsed, 100 * own_cpu / elapsed,
                1e6 * node_cpu / static_cast<double>(done.load()));
    std::printf("%-34s node resident %.1f MB after the resolves\n", "", static_cast<double>(rss_resolved) / 1e6);
    std::printf("%-34s %.0f gets/s with as many in flight | ratio %.2f\n", "baseline: raw OpenDHT gets",
                static_cast<double>(raw_done) / raw_elapsed,
                (static_cast<double>(done) / elapsed) / (static_cast<double>(raw_done) / raw_elapsed));
    std::printf("%-34s CPU: the nodes %.0f%% of a core, the bench with the runner %.0f%%\n", "", 100 * raw_nodes_cpu / raw_elapsed,
                100 * raw_own_cpu / raw_elapsed);

    conns.clear();
    std::promise<void> stopped;
    raw.shutdown([&] { stopped.set_value(); });
    stopped.get_future().wait_for(seconds(5));
    raw.join();
    return 0;
}
