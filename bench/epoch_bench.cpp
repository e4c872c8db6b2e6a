// Time from the deciding ballot to every member adopting the new roster
// epoch, for networks of N members (default 5 and 50) running their real
// peer services and couriers on loopback in one process. The roster of N
// members is built beforehand (as votes would have built it); then a new node
// applies, the members cast all approvals but one, and the clock starts with
// the deciding ballot. Usage: epoch_bench [N ...]
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "testing/bench_util.h"
#include "common/log.h"
#include "crypto/aead.h"
#include "node/trust/roster_builder.h"
#include "roster/roster_rules.h"
#include "node/trust/trusted_network.h"
#include "storage/memory_store.h"
#include "testing/test_util.h"

using namespace dhtalk;
using namespace std::chrono;

namespace {

struct Peer {
    crypto::NodeIdentity id;
    MemoryStore store;
    std::unique_ptr<PeerService> service;
    std::unique_ptr<TrustedNetwork> trust;
    std::string endpoint() const { return "127.0.0.1:" + std::to_string(service->port()); }
};

// The roster of `peers` (all but the last, which will apply), as if each had
// been admitted in turn by the fewest approvals the majority rule allows.
std::vector<RosterEpoch> build_chain(std::vector<std::unique_ptr<Peer>>& peers, size_t members) {
    std::vector<RosterEpoch> chain;
    auto g = make_genesis(peers[0]->id, {"bench", QuorumRule::kMajority, "kontalk-sha1"}, {peers[0]->endpoint()}, "p0",
                          crypto::random_key());
    chain.push_back(g.value());
    const uint32_t net = network_id_of_genesis(chain.front());
    for (size_t k = 1; k < members; ++k) {
        const auto subject = peers[k]->id.node_id_hex();
        std::vector<Ballot> ballots;
        for (size_t v = 0; v < approvals_needed(QuorumRule::kMajority, k); ++v)
            ballots.push_back(make_ballot(peers[v]->id, net, chain.back().epoch, ChangeKind::kAdmit, subject,
                                          Decision::kApprove, "")
                                  .value());
        const Member m = member_of(peers[k]->id, {peers[k]->endpoint()}, "p" + std::to_string(k));
        chain.push_back(
            assemble_next(chain.back(), net, ChangeKind::kAdmit, subject, &m, ballots, peers[0]->id, crypto::random_key()).value());
    }
    return chain;
}

double run(size_t n, const test::TempDir& dir, bool relay_to_all) {
    SystemClock clock;
    ThreadDrivers drivers(clock);
    std::vector<std::unique_ptr<Peer>> peers;
    for (size_t i = 0; i <= n; ++i) {
        auto p = std::make_unique<Peer>();
        p->id = crypto::load_or_create_identity(dir / ("n" + std::to_string(n) + "-" + std::to_string(i)), 2048).value();
        p->service = PeerService::start(tcp_peer_net(), "127.0.0.1", 0, clock).value();
        peers.push_back(std::move(p));
    }
    const auto chain = build_chain(peers, n);
    for (size_t i = 0; i <= n; ++i) {
        auto& p = *peers[i];
        TrustConfig tc;
        tc.endpoint = p.endpoint();
        tc.interval = milliseconds(200);
        tc.relay_to_all = relay_to_all;
        if (i < n) {
            RosterStore rs(p.store);
            for (const auto& e : chain) rs.save_epoch(e).ignore_error();
        } else {
            tc.apply = true;  // the newcomer fetches the roster and applies
            tc.contact = "newcomer";
            tc.bootstrap = {peers[0]->endpoint()};
        }
        p.trust = TrustedNetwork::open(tc, p.store, p.id, clock, drivers, tcp_peer_net(), crypto::random_u64()).value();
        p.service->attach(p.trust.get());
    }
    std::atomic<bool> quit{false};
    std::thread ticker([&] {
        while (!quit) {
            for (auto& p : peers) p->trust->tick();
            std::this_thread::sleep_for(milliseconds(20));
        }
    });
    const auto subject = peers[n]->id.node_id_hex();
    const size_t needed = approvals_needed(QuorumRule::kMajority, n);
    auto approvals_everywhere = [&](size_t count) {
        for (size_t i = 0; i < n; ++i) {
            bool seen = false;
            const Json::Value pending = peers[i]->trust->pending_json();
            for (const auto& p : pending["pending"])
                if (p["node_id"].asString() == subject) seen = p["approvals"].size() >= count;
            if (!seen) return false;
        }
        return true;
    };
    if (!test::wait_until([&] { return approvals_everywhere(0); }, seconds(60)))
        std::fprintf(stderr, "the application did not reach every member\n");
    // All approvals but the deciding one, and every member holding them.
    for (size_t v = 0; v + 1 < needed; ++v)
        peers[v]->trust->vote(ChangeKind::kAdmit, subject, Decision::kApprove, "").ignore_error();
    if (!test::wait_until([&] { return approvals_everywhere(needed - 1); }, seconds(120)))
        std::fprintf(stderr, "the approvals did not reach every member\n");

    const double t0 = bench::wall_seconds();
    peers[needed - 1]->trust->vote(ChangeKind::kAdmit, subject, Decision::kApprove, "").ignore_error();
    const bool all = test::wait_until(
        [&] {
            for (auto& p : peers)
                if (p->trust->epoch() != n) return false;
            return true;
        },
        seconds(120), milliseconds(1));
    const double elapsed = bench::wall_seconds() - t0;
    quit = true;
    ticker.join();
    for (auto& p : peers) p->service->stop();
    return all ? elapsed : -1;
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<size_t> sizes;
    for (int i = 1; i < argc; ++i) {
        const long v = std::atol(argv[i]);
        if (v < 1 || v > 99) {
            std::fprintf(stderr, "usage: epoch_bench [MEMBERS 1..99 ...]\n");
            return 2;
        }
        sizes.push_back(static_cast<size_t>(v));
    }
    if (sizes.empty()) sizes = {5, 50, 99};
    log::set_level(log::Level::kError);
    test::TempDir dir;
    std::printf("deciding ballot -> every member and the newcomer hold the new epoch\n");
    std::printf("%8s %10s %14s %18s %8s\n", "members", "approvals", "gossip", "N^2 relay (old)", "ratio");
    for (size_t n : sizes) {
        const double gossip = run(n, dir, false);
        const double all = run(n, dir, true);
        auto ms = [](double s) { return s < 0 ? std::string("timeout") : std::to_string(static_cast<long>(s * 1000)) + " ms"; };
        std::printf("%8zu %10zu %14s %18s", n, approvals_needed(QuorumRule::kMajority, n), ms(gossip).c_str(),
                    ms(all).c_str());
        if (gossip > 0 && all > 0) std::printf(" %8.2f", gossip / all);
        std::printf("\n");
        std::fflush(stdout);
    }
    std::printf("\nreference: the roster catch-up period in this run is 200 ms (the default is 3 s).\n");
    return 0;
}
