// Files on a loopback network of dhtalk-node processes (docs/media.md).
//   Spread: FILES files of mixed sizes (1 KiB to 1 MiB, log-uniform, seeded)
//     uploaded through node 0 of NODES, whose offered space differs (256,
//     512, 768 or 1,024 MiB, in turn): the bytes each node holds against its
//     share of the offered space, beside the "stored on the uploader"
//     baseline (node 0 holding everything).
//   Availability: the node holding the most killed, every file downloaded
//     through another node, checked; and the time until the others hold two
//     copies of every chunk again (repair, after the membership protocol
//     declares the node dead).
//   Throughput: one MIB MiB file uploaded through node 0 and downloaded
//     through node 1, beside a plain TLS 1.3 transfer of the same bytes over
//     loopback in the same process.
// The nodes run with --media-chunks-per-second 100000: the figures are what
// they can move, not the default pace per session (200 chunks, 12.5 MiB/s).
// Usage: media_bench [NODES] [FILES] [MIB] (default 20 nodes, 1000 files, 32 MiB).
#include <arpa/inet.h>
#include <gnutls/gnutls.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>
#include <thread>

#include "client/attachment.h"
#include "common/log.h"
#include "crypto/node_identity.h"
#include "crypto/tls.h"
#include "testing/bench_util.h"
#include "testing/loopback_network.h"

using namespace dhtalk;
using namespace std::chrono;

namespace {

uint32_t offer_of(int node) { return 256u * static_cast<uint32_t>(node % 4 + 1); }

void write_bytes(const std::filesystem::path& p, const std::string& bytes) {
    std::ofstream(p, std::ios::binary | std::ios::trunc) << bytes;
}

std::string random_bytes(std::mt19937_64& rng, size_t n) {
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(rng());
    return s;
}

// Seconds to move `bytes` one way over a TLS 1.3 session on loopback TCP,
// from a client to a server that presents `identity`'s certificate, in
// records of 64 KiB (what a chunk is).
double plain_tls_seconds(const crypto::NodeIdentity& identity, const std::string& bytes) {
    const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(listener, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(listener, 1) != 0) std::exit(1);
    socklen_t len = sizeof a;
    ::getsockname(listener, reinterpret_cast<sockaddr*>(&a), &len);
    auto cert = crypto::make_tls_certificate(identity, system_clock::now(), hours(1)).value();
    auto server_credentials = crypto::TlsCredentials::with_certificate(*cert, *identity.fast_key).value();
    auto client_credentials = crypto::TlsCredentials::anonymous().value();
    double start = 0, end = 0;
    std::thread server([&] {
        const int c = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
        {
            auto s = crypto::TlsSession::open(crypto::TlsSession::Role::kServer, c, *server_credentials).value();
            gnutls_handshake_set_timeout(s->get(), GNUTLS_DEFAULT_HANDSHAKE_TIMEOUT);
            while (gnutls_handshake(s->get()) < 0) {}
            std::string buffer(64 * 1024, '\0');
            size_t got = 0;
            while (got < bytes.size()) {
                const ssize_t n = gnutls_record_recv(s->get(), buffer.data(), buffer.size());
                if (n <= 0) break;
                got += static_cast<size_t>(n);
            }
            end = bench::wall_seconds();
        }
        ::close(c);
    });
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) std::exit(1);
    {
        auto s = crypto::TlsSession::open(crypto::TlsSession::Role::kClient, fd, *client_credentials).value();
        while (gnutls_handshake(s->get()) < 0) {}
        start = bench::wall_seconds();
        for (size_t at = 0; at < bytes.size(); at += 64 * 1024) {
            const size_t n = std::min<size_t>(64 * 1024, bytes.size() - at);
            for (size_t sent = 0; sent < n;) {
                const ssize_t w = gnutls_record_send(s->get(), bytes.data() + at + sent, n - sent);
                if (w <= 0) std::exit(1);
                sent += static_cast<size_t>(w);
            }
        }
        server.join();
    }
    ::close(fd);
    ::close(listener);
    return end - start;
}

}  // namespace

int main(int argc, char** argv) {
    const int nodes = argc > 1 ? std::atoi(argv[1]) : 20;
    const int files = argc > 2 ? std::atoi(argv[2]) : 1000;
    const int mib = argc > 3 ? std::atoi(argv[3]) : 32;
    if (nodes < 3 || files < 1 || mib < 1 || mib > 100) {
        std::fprintf(stderr, "usage: media_bench [NODES >= 3] [FILES >= 1] [MIB 1..100]\n");
        return 2;
    }
    log::set_level(log::Level::kWarning);
    test::TempDir dir;
    // The nodes' pace per session is lifted, so that the figures are what
    // they can move, not the default policy's 200 chunks a second.
    bench::LoopbackNetwork network(dir.path(), nodes, {"--network", "media-bench", "--media-chunks-per-second", "100000"},
                                   [](int i) {
        return std::vector<std::string>{"--media-offer-mib", std::to_string(offer_of(i))};
    });
    auto& net = network.nodes();
    test::wait_until([&] { return network.status(net[0])["members_alive"].asInt() == nodes - 1; }, seconds(120));
    auto user = network.register_user(1, net[0]);
    const client::MediaCall call = [&](const std::string& method, std::vector<FrameParams> p) {
        return user->call_batch(method, std::move(p));
    };

    // Spread.
    std::mt19937_64 rng(42);
    std::vector<client::Attachment> sent;
    std::vector<std::string> sha;
    uint64_t total = 0;
    const auto scratch = dir / "file.bin";
    const double t0 = bench::wall_seconds();
    for (int f = 0; f < files; ++f) {
        const auto size = static_cast<size_t>(std::exp(std::uniform_real_distribution<double>(std::log(1024.0), std::log(1048576.0))(rng)));
        const std::string bytes = random_bytes(rng, size);
        write_bytes(scratch, bytes);
        auto a = client::upload_file(call, scratch, "application/octet-stream", 100 << 20, {});
        if (!a) {
            std::fprintf(stderr, "upload %d failed: %s\n", f, a.status().to_string().c_str());
            return 1;
        }
        sent.push_back(*a);
        total += size;
        if (isatty(2)) std::fprintf(stderr, "\ruploading: %d/%d files", f + 1, files);
    }
    const double spread_s = bench::wall_seconds() - t0;
    if (isatty(2)) std::fputc('\n', stderr);
    std::vector<double> held(static_cast<size_t>(nodes));
    double all_held = 0, all_offered = 0;
    uint64_t copies = 0;
    for (int i = 0; i < nodes; ++i) {
        const auto status = network.status(net[static_cast<size_t>(i)]);
        copies += status["media_chunks"].asUInt64();
        held[static_cast<size_t>(i)] = status["media_bytes"].asDouble();
        all_held += held[static_cast<size_t>(i)];
        all_offered += offer_of(i);
    }
    // Each node's bytes against its share of the offered space: 1 is exact.
    double sum = 0, sq = 0, largest = 0;
    int fullest = 0;
    for (int i = 0; i < nodes; ++i) {
        const double ratio = held[static_cast<size_t>(i)] / (all_held * offer_of(i) / all_offered);
        sum += ratio;
        sq += ratio * ratio;
        if (held[static_cast<size_t>(i)] > largest) {
            largest = held[static_cast<size_t>(i)];
            fullest = i;
        }
    }
    const double mean = sum / nodes;
    const double cv = std::sqrt(std::max(0.0, sq / nodes - mean * mean)) / mean;
    std::printf("files, %d dhtalk-node processes on loopback offering 256-1,024 MiB each, uploads through node 0\n\n", nodes);
    std::printf("spread: %d files, %.1f MiB (%.1f MiB held, 2 copies and manifests), uploaded in %.1f s\n", files,
                total / 1048576.0, all_held / 1048576.0, spread_s);
    std::printf("  bytes held / share of offered space: mean %.2f, coefficient of variation %.2f\n", mean, cv);
    std::printf("  largest share: node %d, %.1f%% of the bytes held, offering %.1f%% of the space\n", fullest,
                100 * largest / all_held, 100 * offer_of(fullest) / all_offered);
    std::printf("  baseline, stored on the uploader: node 0 holds 100%% of one copy (it offers %.1f%%)\n",
                100 * offer_of(0) / all_offered);

    // Availability: the fullest holder killed (not node 1, which serves the downloads).
    const int killed = fullest == 1 ? (fullest + 1) % nodes : fullest;
    net[static_cast<size_t>(killed)].process->signal(SIGKILL);
    net[static_cast<size_t>(killed)].process->wait(seconds(10));
    const double killed_at = bench::wall_seconds();
    client::ClientOptions o;
    o.profile_dir = user->profile().dir;
    o.nodes = {net[1].client()};
    auto reader = client::Client::open(o).value();
    const client::MediaCall read_call = [&](const std::string& method, std::vector<FrameParams> p) {
        return reader->call_batch(method, std::move(p));
    };
    int downloaded = 0;
    const double t1 = bench::wall_seconds();
    for (size_t f = 0; f < sent.size(); ++f) {
        const auto out = dir / ("got" + std::to_string(f));
        if (client::download_file(read_call, sent[f], out, {})) ++downloaded;
        std::filesystem::remove(out);
    }
    std::printf("\navailability: node %d (the fullest) killed: %d of %zu files downloaded through node 1, checked, in %.1f s\n",
                killed, downloaded, sent.size(), bench::wall_seconds() - t1);
    // Repair: the survivors hold as many copies as all held before.
    auto survivors_hold = [&] {
        uint64_t n = 0;
        for (int i = 0; i < nodes; ++i)
            if (i != killed) n += network.status(net[static_cast<size_t>(i)])["media_chunks"].asUInt64();
        return n;
    };
    const bool restored = test::wait_until([&] { return survivors_hold() >= copies; }, seconds(300));
    std::printf("repair: the others hold %llu of the %llu chunk copies there were, %.1f s after the kill%s\n",
                static_cast<unsigned long long>(survivors_hold()), static_cast<unsigned long long>(copies),
                bench::wall_seconds() - killed_at, restored ? "" : " (not restored within 300 s)");

    // Throughput.
    const std::string big = random_bytes(rng, static_cast<size_t>(mib) << 20);
    write_bytes(scratch, big);
    const double u0 = bench::wall_seconds();
    auto a = client::upload_file(call, scratch, "application/octet-stream", 100 << 20, {});
    const double up_s = bench::wall_seconds() - u0;
    if (!a) {
        std::fprintf(stderr, "upload failed: %s\n", a.status().to_string().c_str());
        return 1;
    }
    const double d0 = bench::wall_seconds();
    Status got = client::download_file(read_call, *a, dir / "big.out", {});
    const double down_s = bench::wall_seconds() - d0;
    if (!got) {
        std::fprintf(stderr, "download failed: %s\n", got.to_string().c_str());
        return 1;
    }
    test::TempDir id_dir;
    const auto identity = crypto::load_or_create_identity(id_dir.path(), 2048).value();
    const double tls_s = plain_tls_seconds(identity, big);
    std::printf("\nthroughput, a %d MiB file:\n", mib);
    std::printf("  upload through node 0     %7.1f MiB/s (%.2f s)\n", mib / up_s, up_s);
    std::printf("  download through node 1   %7.1f MiB/s (%.2f s)\n", mib / down_s, down_s);
    std::printf("  baseline, plain TLS 1.3   %7.1f MiB/s (%.3f s, the same bytes one way on loopback)\n", mib / tls_s,
                tls_s);
    return 0;
}
