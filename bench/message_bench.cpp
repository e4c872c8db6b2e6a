// Online delivery on a loopback network of dhtalk-node processes: the time
// from a user's client sending a message (end-to-end encryption, the two
// inbox holders' synced writes, the pass-on to the recipient's node, the
// push) to the recipient's client having it decrypted and kept, while it
// follows its inbox on another node; next to the round-trip time of a
// plain request to the front end, measured in the same run. The recipient
// sends a delivery receipt for each message, as it would. One message
// every 50 ms, under the front end's per-session request rate.
// Then offline catch-up: MESSAGES wait for a user who is away, and a fresh
// client of theirs logs in and fetches them all.
// Usage: message_bench [NODES] [MESSAGES] (default 10 nodes, 1000 messages).
#include <atomic>
#include <cstdio>
#include <map>
#include <mutex>
#include <thread>

#include "common/log.h"
#include "testing/bench_util.h"
#include "testing/loopback_network.h"

using namespace dhtalk;
using namespace std::chrono;

int main(int argc, char** argv) {
    const int nodes = argc > 1 ? std::atoi(argv[1]) : 10;
    const int messages = argc > 2 ? std::atoi(argv[2]) : 1000;
    if (nodes < 2 || messages < 1) {
        std::fprintf(stderr, "usage: message_bench [NODES >= 2] [MESSAGES >= 1]\n");
        return 2;
    }
    log::set_level(log::Level::kWarning);
    test::TempDir dir;
    // The bench sends as fast as it can: the per-user and per-address rates are lifted.
    auto owned = std::make_unique<bench::LoopbackNetwork>(
        dir.path(), nodes,
        std::vector<std::string>{"--network", "message-bench", "--messages-per-second", "10000", "--client-rate", "100000"});
    auto& network = *owned;
    auto& net = network.nodes();
    test::wait_until([&] { return network.status(net[0])["members_alive"].asInt() == nodes - 1; }, seconds(60));

    auto sender = network.register_user(1, net[0]);
    auto recipient = network.register_user(2, net[static_cast<size_t>(nodes / 2)]);
    for (auto* c : {sender.get(), recipient.get()})
        if (Status s = c->publish_keys(); !s) {
            std::fprintf(stderr, "message_bench: cannot publish keys: %s\n", s.message().c_str());
            return 1;
        }
    const std::string recipient_id = recipient->profile().user_id;

    std::mutex mutex;
    std::map<std::string, double> arrived;  // text -> wall seconds
    std::atomic<bool> following{false};
    std::thread receiving([&] {
        recipient->follow_messages(
            [&](const client::Client::Received& r) {
                const double t = bench::wall_seconds();
                {
                    std::lock_guard lock(mutex);
                    for (const auto& m : r.messages) arrived.emplace(m.text, t);
                }
                return recipient->mark_shown(r.messages).is_ok();
            },
            [](const std::string& problem) { std::fprintf(stderr, "message_bench: %s\n", problem.c_str()); },
            [&](const std::string&) { following = true; }).ignore_error();  // ends when the network is torn down
    });
    test::wait_until([&] { return following.load(); }, seconds(30));

    std::vector<double> latency_ms, rtt_ms, send_ms;
    std::map<std::string, double> sent;
    const double start = bench::wall_seconds();
    for (int k = 0; k < messages; ++k) {
        const std::string text = "message " + std::to_string(k);
        const double t0 = bench::wall_seconds();
        auto m = sender->send_message(recipient_id, text);
        if (!m) {
            std::fprintf(stderr, "message_bench: send failed: %s\n", m.status().message().c_str());
            return 1;
        }
        sent[text] = t0;
        send_ms.push_back((bench::wall_seconds() - t0) * 1000);
        const double r0 = bench::wall_seconds();
        if (sender->call("hello", {})) rtt_ms.push_back((bench::wall_seconds() - r0) * 1000);
        if (k % 100 == 99) std::fprintf(stderr, "\r%d of %d sent", k + 1, messages);
        // Under the front end's 50 requests a second per session, on both
        // ends: the recipient acknowledges each message and sends a receipt.
        std::this_thread::sleep_for(milliseconds(50));
    }
    std::fprintf(stderr, "\n");
    const double elapsed = bench::wall_seconds() - start;
    test::wait_until([&] {
        std::lock_guard lock(mutex);
        return arrived.size() >= sent.size();
    }, seconds(30));
    size_t missing = 0;
    {
        std::lock_guard lock(mutex);
        for (const auto& [text, t0] : sent) {
            auto it = arrived.find(text);
            if (it == arrived.end()) missing++;
            else latency_ms.push_back((it->second - t0) * 1000);
        }
    }
    std::printf("messages, %d dhtalk-node processes on loopback (sealed), sender on node 0, recipient following on node %d\n\n",
                nodes, nodes / 2);
    std::printf("send -> recipient's client  p50 %6.2f ms  p99 %6.2f ms  (%zu of %d arrived, %zu missing)\n",
                bench::percentile(latency_ms, 0.5), bench::percentile(latency_ms, 0.99), latency_ms.size(), messages,
                missing);
    std::printf("send -> \"stored\"            p50 %6.2f ms  p99 %6.2f ms  (%.1f s for all)\n",
                bench::percentile(send_ms, 0.5), bench::percentile(send_ms, 0.99), elapsed);
    std::printf("baseline: request RTT       p50 %6.2f ms  p99 %6.2f ms  (hello to the sender's node)\n",
                bench::percentile(rtt_ms, 0.5), bench::percentile(rtt_ms, 0.99));

    // Offline catch-up: MESSAGES wait for a user who is away (on another
    // node); the time runs from a fresh client's login to the last of them
    // opened and kept (fetched 256 at a time, acknowledged, receipts sent).
    auto away = network.register_user(3, net[static_cast<size_t>(nodes / 3)]);
    if (Status st = away->publish_keys(); !st) return 1;
    const std::string away_id = away->profile().user_id;
    client::ClientOptions options;
    options.profile_dir = away->profile().dir;
    options.nodes = away->profile().nodes;
    away.reset();
    for (int k = 0; k < messages; ++k) {
        if (auto m = sender->send_message(away_id, "queued " + std::to_string(k)); !m) {
            std::fprintf(stderr, "message_bench: send failed: %s\n", m.status().message().c_str());
            return 1;
        }
        if (k % 100 == 99) std::fprintf(stderr, "\r%d of %d queued", k + 1, messages);
        std::this_thread::sleep_for(milliseconds(25));  // one request each
    }
    std::fprintf(stderr, "\n");
    const double login = bench::wall_seconds();
    auto back = client::Client::open(options);
    if (!back) return 1;
    size_t caught_up = 0;
    while (caught_up < static_cast<size_t>(messages) && bench::wall_seconds() - login < 120) {
        auto got = (*back)->receive_messages();
        if (!got) {
            std::fprintf(stderr, "message_bench: catch-up failed: %s\n", got.status().message().c_str());
            return 1;
        }
        caught_up += got->messages.size();
        (*back)->mark_shown(got->messages).ignore_error();  // a bench: shown or not, they are counted
        if (got->messages.empty()) break;
    }
    const double catch_up_ms = (bench::wall_seconds() - login) * 1000;
    std::printf("\noffline catch-up, %zu of %d queued messages: login -> last one kept %.0f ms\n", caught_up, messages,
                catch_up_ms);
    // Stopping the nodes closes the recipient's connection, which ends its thread.
    owned.reset();
    receiving.join();
    return missing == 0 && caught_up == static_cast<size_t>(messages) ? 0 : 1;
}
