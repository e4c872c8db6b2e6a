// Sealed versus open overlay: DHT get latency and throughput for the same
// workload on two loopback networks running side by side in the same run,
// one sealed (AES-256-GCM per datagram), one plain OpenDHT. The reader
// joins each network after the values are stored, so every get crosses the
// network. Usage: sealed_bench [NODES] [GETS] (default 8 nodes, 300 gets).
#include <cstdio>
#include <cstdlib>
#include <future>

#include "testing/bench_util.h"
#include "common/log.h"
#include "dht/overlay.h"
#include "testing/test_util.h"

using namespace dhtalk;
using namespace std::chrono;

namespace {

struct Network {
    std::vector<std::unique_ptr<Overlay>> nodes;
    std::unique_ptr<Overlay> reader;
};

std::unique_ptr<Overlay> start(dht::NetId id, bool sealed, std::optional<uint16_t> bootstrap) {
    OverlayConfig c;
    c.bind_address = "127.0.0.1";
    c.network_id = id;
    c.node_id = dht::InfoHash::getRandom();
    if (sealed) {
        EpochKey k;
        k.epoch = 1;
        k.key.fill(0x42);
        c.seal_key = k;
    }
    if (bootstrap) c.bootstrap.push_back("127.0.0.1:" + std::to_string(*bootstrap));
    static const SystemClock clock;
    auto o = Overlay::start(c, {}, clock);
    if (!o) {
        std::fprintf(stderr, "cannot start a node: %s\n", o.status().to_string().c_str());
        std::exit(1);
    }
    return std::move(o).value();
}

bool wait_joined(std::vector<Overlay*> nodes, unsigned peers) {
    return test::wait_until(
        [&] {
            for (auto* n : nodes)
                if (n->stats().peers_ipv4 < peers) return false;
            return true;
        },
        seconds(60));
}

// Time to the first value, in ms; negative when not found.
double timed_get(Overlay& o, const dht::InfoHash& key) {
    const double t0 = bench::wall_seconds();
    auto f = o.runner().get(key);
    if (f.wait_for(seconds(30)) != std::future_status::ready || f.get().empty()) return -1;
    return (bench::wall_seconds() - t0) * 1000;
}

// Issues every get at once; returns completed gets per second.
double throughput(Overlay& o, const std::vector<dht::InfoHash>& keys, int& found) {
    std::vector<std::future<std::vector<std::shared_ptr<dht::Value>>>> pending;
    const double t0 = bench::wall_seconds();
    for (const auto& k : keys) pending.push_back(o.runner().get(k));
    found = 0;
    for (auto& f : pending)
        if (f.wait_for(seconds(60)) == std::future_status::ready && !f.get().empty()) found++;
    return static_cast<double>(keys.size()) / (bench::wall_seconds() - t0);
}

}  // namespace

int main(int argc, char** argv) {
    const int n = argc > 1 ? std::atoi(argv[1]) : 8;
    const int gets = argc > 2 ? std::atoi(argv[2]) : 300;
    if (n < 2 || n > 40 || gets < 1 || gets > 100000) {
        std::fprintf(stderr, "usage: sealed_bench [NODES 2..40] [GETS 1..100000]\n");
        return 2;
    }
    log::set_level(log::Level::kError);
    const double started = bench::wall_seconds();
    Network sealed, open;
    for (int i = 0; i < n; ++i) {
        sealed.nodes.push_back(start(0x5ea1, true, i ? std::optional(sealed.nodes[0]->port_ipv4()) : std::nullopt));
        open.nodes.push_back(start(0x09e1, false, i ? std::optional(open.nodes[0]->port_ipv4()) : std::nullopt));
    }
    auto raw = [](Network& net) {
        std::vector<Overlay*> v;
        for (auto& o : net.nodes) v.push_back(o.get());
        return v;
    };
    wait_joined(raw(sealed), static_cast<unsigned>(n / 2));
    wait_joined(raw(open), static_cast<unsigned>(n / 2));

    // Store every value in both networks, all puts in flight at once.
    std::fprintf(stderr, "joined after %.1f s\n", bench::wall_seconds() - started);
    // Keys for the latency phase, then fresh ones for the throughput phase
    // (OpenDHT answers a repeated get from its search cache).
    std::vector<dht::InfoHash> keys;
    std::vector<std::future<bool>> puts;
    for (int i = 0; i < 2 * gets; ++i) {
        keys.push_back(dht::InfoHash::getRandom());
        const std::string text(200, static_cast<char>('a' + i % 26));
        for (Network* net : {&sealed, &open}) {
            auto done = std::make_shared<std::promise<bool>>();
            puts.push_back(done->get_future());
            net->nodes[static_cast<size_t>(i % n)]->runner().put(
                keys.back(), dht::Value(reinterpret_cast<const uint8_t*>(text.data()), text.size()),
                [done](bool ok) { done->set_value(ok); });
        }
    }
    for (auto& p : puts) p.wait_for(seconds(60));
    std::fprintf(stderr, "stored after %.1f s\n", bench::wall_seconds() - started);
    sealed.reader = start(0x5ea1, true, sealed.nodes[0]->port_ipv4());
    open.reader = start(0x09e1, false, open.nodes[0]->port_ipv4());
    wait_joined({sealed.reader.get(), open.reader.get()}, static_cast<unsigned>(std::min(n - 1, 3)));

    std::vector<double> lat_s, lat_o;
    int miss_s = 0, miss_o = 0;
    for (int i = 0; i < gets; ++i) {
        // Alternate which network goes first.
        Network* first = i % 2 ? &open : &sealed;
        Network* second = i % 2 ? &sealed : &open;
        for (Network* net : {first, second}) {
            const double ms = timed_get(*net->reader, keys[static_cast<size_t>(i)]);
            auto& lat = net == &sealed ? lat_s : lat_o;
            int& miss = net == &sealed ? miss_s : miss_o;
            if (ms < 0)
                miss++;
            else
                lat.push_back(ms);
        }
    }
    std::fprintf(stderr, "latency phase done after %.1f s\n", bench::wall_seconds() - started);
    int found_s = 0, found_o = 0;
    const std::vector<dht::InfoHash> fresh(keys.begin() + gets, keys.end());
    const std::vector<dht::InfoHash> fresh_o(fresh.begin(), fresh.begin() + gets / 2);
    const std::vector<dht::InfoHash> fresh_s(fresh.begin() + gets / 2, fresh.end());
    const double tput_o = throughput(*open.reader, fresh_o, found_o);
    const double tput_s = throughput(*sealed.reader, fresh_s, found_s);

    const double p50s = bench::percentile(lat_s, 0.5), p50o = bench::percentile(lat_o, 0.5);
    const double p99s = bench::percentile(lat_s, 0.99), p99o = bench::percentile(lat_o, 0.99);
    std::printf("%d nodes per network, %d gets through a reader that holds no value\n", n, gets);
    std::printf("get latency  sealed p50 %.3f ms p99 %.3f ms (%d missed)   open p50 %.3f ms p99 %.3f ms (%d missed)"
                "   sealed/open p50 %.2f p99 %.2f\n",
                p50s, p99s, miss_s, p50o, p99o, miss_o, p50s / p50o, p99s / p99o);
    std::printf("throughput   sealed %.0f gets/s (%d found)   open %.0f gets/s (%d found)   sealed/open %.2f"
                "   (%d gets each, all in flight)\n",
                tput_s, found_s, tput_o, found_o, tput_s / tput_o, gets / 2);
    const auto ss = sealed.reader->stats();
    std::printf("sealed reader: %llu datagrams in, %llu refused\n",
                static_cast<unsigned long long>(ss.datagrams_in), static_cast<unsigned long long>(ss.datagrams_refused));
    for (Network* net : {&sealed, &open}) {
        net->reader->stop(seconds(1)).ignore_error();
        for (auto& o : net->nodes) o->stop(seconds(1)).ignore_error();
    }
    return 0;
}
