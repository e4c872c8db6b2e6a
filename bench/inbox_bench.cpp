// Durable message throughput of one node: SESSIONS logged-in sessions on
// node 0 each keep one message.send in flight for SECONDS; a message counts
// once the node answers "stored" (its recipient's two inbox holders have it
// synced to disk). Recipients are random user ids, so their inboxes spread
// over the members. Beside it, the baseline from the same run and disk: how
// many synced RocksDB writes of one message-sized record a second one
// writer gets, since every holder syncs before it answers.
// Usage: inbox_bench [NODES] [SESSIONS] [SECONDS] (default 10, 1000, 10).
#include <atomic>
#include <cstdio>
#include <mutex>
#include <thread>

#include <rocksdb/db.h>

#include "common/log.h"
#include "crypto/aead.h"
#include "crypto/signing.h"
#include "crypto/tls.h"
#include "crypto/user_certificate.h"
#include "testing/bench_util.h"
#include "testing/loopback_network.h"

using namespace dhtalk;
using namespace std::chrono;

namespace {

std::string random_hex(size_t bytes) {
    std::string raw(bytes, '\0');
    crypto::random_bytes({reinterpret_cast<uint8_t*>(raw.data()), raw.size()});
    return crypto::to_hex(raw);
}

// Synced single-record writes a second, for `seconds`, in a fresh RocksDB under `dir`.
double synced_writes_per_second(const std::filesystem::path& dir, double seconds) {
    rocksdb::Options options;
    options.create_if_missing = true;
    rocksdb::DB* raw = nullptr;
    if (!rocksdb::DB::Open(options, (dir / "baseline-rocksdb").string(), &raw).ok()) return 0;
    std::unique_ptr<rocksdb::DB> db(raw);
    rocksdb::WriteOptions synced;
    synced.sync = true;
    const std::string value(300, 'v');
    size_t n = 0;
    const double t0 = bench::wall_seconds();
    while (bench::wall_seconds() - t0 < seconds) db->Put(synced, "ib/" + std::to_string(n++), value);
    return static_cast<double>(n) / (bench::wall_seconds() - t0);
}

}  // namespace

int main(int argc, char** argv) {
    const int nodes = argc > 1 ? std::atoi(argv[1]) : 10;
    const int sessions = argc > 2 ? std::atoi(argv[2]) : 1000;
    const double seconds_run = argc > 3 ? std::atof(argv[3]) : 10;
    if (nodes < 2 || sessions < 1 || seconds_run <= 0) {
        std::fprintf(stderr, "usage: inbox_bench [NODES >= 2] [SESSIONS >= 1] [SECONDS > 0]\n");
        return 2;
    }
    log::set_level(log::Level::kWarning);
    test::TempDir dir;
    auto owned = std::make_unique<bench::LoopbackNetwork>(
        dir.path(), nodes,
        std::vector<std::string>{"--network", "inbox-bench", "--max-client-sessions", "100000",
                                 "--max-sessions-per-address", "100000", "--client-rate", "1000000",
                                 "--messages-per-second", "10000"});
    auto& network = *owned;
    auto& net = network.nodes();
    test::wait_until([&] { return network.status(net[0])["members_alive"].asInt() == nodes - 1; }, seconds(60));
    auto sender = network.register_user(1, net[0]);
    auto cert = crypto::parse_certificate(sender->profile().certificate).value();
    auto creds = crypto::TlsCredentials::with_certificate(*cert, *sender->profile().key).value();

    std::vector<std::string> recipients;
    for (int i = 0; i < 1000; ++i) recipients.push_back(random_hex(20));
    const std::string body = random_hex(150);  // 300 bytes of "ciphertext"

    const int threads = 8;
    std::vector<std::vector<std::unique_ptr<client::ClientConnection>>> conns(threads);
    {
        std::vector<std::thread> openers;
        for (int t = 0; t < threads; ++t)
            openers.emplace_back([&, t] {
                for (int s = t; s < sessions; s += threads)
                    if (auto c = client::ClientConnection::open(net[0].client(), creds, seconds(60)))
                        conns[static_cast<size_t>(t)].push_back(std::move(c).value());
            });
        for (auto& th : openers) th.join();
    }
    size_t open_sessions = 0;
    for (auto& v : conns) open_sessions += v.size();

    std::atomic<uint64_t> stored{0}, failed{0}, next_id{0};
    std::mutex latency_mutex;
    std::vector<double> latency_ms;
    std::string first_error;
    const double node_cpu0 = bench::cpu_seconds(net[0].process->pid());
    const double r0 = bench::wall_seconds();
    {
        std::vector<std::thread> workers;
        for (int t = 0; t < threads; ++t)
            workers.emplace_back([&, t] {
                auto& mine = conns[static_cast<size_t>(t)];
                std::vector<double> sent_at(mine.size());
                std::vector<double> local_ms;
                auto send_next = [&](size_t i) {
                    const uint64_t k = next_id++;
                    sent_at[i] = bench::wall_seconds();
                    return mine[i]
                        ->send("message.send", {{"to", recipients[k % recipients.size()]},
                                                {"device", std::string("0123456789abcdef")},
                                                {"id", "m" + std::to_string(k)},
                                                {"body", body},
                                                {"sent_ms", uint64_t{1}}})
                        .is_ok();
                };
                std::vector<bool> waiting(mine.size());
                for (size_t i = 0; i < mine.size(); ++i) waiting[i] = send_next(i);
                for (bool any = true; any;) {
                    any = false;
                    for (size_t i = 0; i < mine.size(); ++i) {
                        if (!waiting[i]) continue;
                        auto r = mine[i]->receive(seconds(30));
                        if (r && r->code == 0) {
                            stored++;
                            local_ms.push_back((bench::wall_seconds() - sent_at[i]) * 1000);
                        } else {
                            failed++;
                            std::lock_guard lock(latency_mutex);
                            if (first_error.empty()) first_error = r ? r->error : r.status().message();
                        }
                        waiting[i] = r && bench::wall_seconds() - r0 < seconds_run && send_next(i);
                        any = any || waiting[i];
                    }
                }
                std::lock_guard lock(latency_mutex);
                latency_ms.insert(latency_ms.end(), local_ms.begin(), local_ms.end());
            });
        for (auto& th : workers) th.join();
    }
    const double elapsed = bench::wall_seconds() - r0;
    const double node_cpu = bench::cpu_seconds(net[0].process->pid()) - node_cpu0;
    const double baseline = synced_writes_per_second(dir.path(), 3);

    std::printf("durable messages, %d dhtalk-node processes on loopback (sealed), %zu/%d sessions of one user on node 0\n\n",
                nodes, open_sessions, sessions);
    std::printf("messages stored          %.0f /s  (%llu in %.1f s, %llu failed%s%s)\n",
                static_cast<double>(stored) / elapsed, static_cast<unsigned long long>(stored.load()), elapsed,
                static_cast<unsigned long long>(failed.load()), first_error.empty() ? "" : ": ", first_error.c_str());
    std::printf("send -> stored           p50 %6.1f ms  p99 %6.1f ms\n", bench::percentile(latency_ms, 0.5),
                bench::percentile(latency_ms, 0.99));
    std::printf("node 0 CPU               %.0f%% of a core\n", 100 * node_cpu / elapsed);
    std::printf("baseline: synced RocksDB writes, one writer, same disk   %.0f /s\n", baseline);
    owned.reset();
    return 0;
}
