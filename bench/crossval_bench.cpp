// Cross-validation of the simulator against real processes: one network
// (NODES members, USERS_PER_NODE users each, DELAY ms one way between
// nodes, LOSS) and one workload (resolves of a random user's vCard and
// messages between random users, each a Poisson process at a fixed rate),
// run twice: in dhtalk-swarm, and as dhtalk-node processes on loopback in a
// network namespace of this process's own, where QueuedDelay holds every
// packet between nodes for DELAY (this machine's kernel has no netem). The
// clients ask the same frames in both (get, message.send, inbox.follow,
// inbox.fetch, inbox.ack); their links to their nodes take no delay in
// either. Prints each side's resolve and message latency at p50 and p90
// from each side's events, and their ratio.
// Needs root: the namespace and its iptables rules (iptables-legacy).
// Usage: crossval_bench [NODES] [MEASURE_S] [--delay-ms D] [--loss P]
//        [--users-per-node U] [--resolves-per-s R] [--messages-per-s M] [--seed S]
#include <poll.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include "client/client_connection.h"
#include "common/json.h"
#include "common/log.h"
#include "sim/inbox_follower.h"
#include "testing/bench_util.h"
#include "testing/loopback_network.h"
#include "testing/queued_delay.h"

using namespace dhtalk;
using namespace std::chrono;

namespace {

struct Settings {
    int nodes = 20;
    double measure_s = 120;
    double warmup_s = 30;
    double drain_s = 30;
    double delay_ms = 20;
    double loss = 0;
    int users_per_node = 4;
    double resolves_per_s = 2;
    double messages_per_s = 2;
    uint64_t seed = 1;
};

// Latencies (ms) of the measured resolves answered and messages delivered,
// with the counts of each asked.
struct Sample {
    std::vector<double> resolve_ms, message_ms;
    size_t resolves = 0, messages = 0;
};

// Thrown, not exit(): the node processes and the folder go as the stack
// unwinds.
struct Failure {
    std::string why;
};
[[noreturn]] void fail(const std::string& why) { throw Failure{why}; }

std::string scenario_of(const Settings& s) {
    std::ostringstream o;
    o << "[network]\nnodes = " << s.nodes << "\nusers-per-node = " << s.users_per_node << "\nfounding = prepared\n"
      << "[link]\nlatency = constant\nlatency-ms = " << s.delay_ms << "\nloss = " << s.loss << "\n"
      << "[churn]\nmodel = none\n"
      << "[workload]\nresolves-per-s = " << s.resolves_per_s << "\nvcards-per-s = 0\npresence-per-s = 0\nmessages-per-s = "
      << s.messages_per_s << "\nwatches-per-user = 0\npopularity = 0\n"
      << "[time]\nwarmup-s = " << s.warmup_s << "\nmeasure-s = " << s.measure_s << "\ndrain-s = " << s.drain_s << "\n"
      << "[run]\nseed = " << s.seed << "\ntrials = 1\n";
    return o.str();
}

Sample simulated(const Settings& s, const std::filesystem::path& dir) {
    const auto bin = std::filesystem::read_symlink("/proc/self/exe").parent_path().parent_path() / "tools" / "dhtalk-swarm";
    {
        std::ofstream(dir / "crossval.ini") << scenario_of(s);
    }
    std::fprintf(stderr, "the simulator: %d nodes...\n", s.nodes);
    auto r = test::run({bin.string(), "run", (dir / "crossval.ini").string(), "--out", (dir / "sim").string()}, dir,
                       minutes(60));
    if (r.status != 0) fail("dhtalk-swarm failed: " + r.err);
    Sample out;
    std::ifstream events(dir / "sim" / "events.jsonl");
    for (std::string line; std::getline(events, line);) {
        auto e = json::parse_object(line);
        if (!e) fail("the simulator's events.jsonl has a line that is not an event");
        const std::string kind = (*e)["kind"].asString(), outcome = (*e)["outcome"].asString();
        if (kind == "resolve") {
            ++out.resolves;
            if (outcome == "ok") out.resolve_ms.push_back((*e)["latency_ms"].asDouble());
        } else if (kind == "message") {
            ++out.messages;
            if (outcome == "delivered") out.message_ms.push_back((*e)["latency_ms"].asDouble());
        }
    }
    return out;
}

struct User {
    std::unique_ptr<client::ClientConnection> conn;
    std::string user_id, device_id;
    InboxFollower inbox;
    steady_clock::time_point next_fetch;
};

struct Asked {
    enum class Kind { kResolve, kSend, kFetch, kOther } kind;
    size_t index = 0;
};

Sample real(const Settings& s, const std::filesystem::path& dir) {
    const std::string node_address = "127.0.0.2";
    if (Status st = bench::enter_queued_namespace(node_address, 0); !st) fail(st.to_string());
    auto delay = bench::QueuedDelay::start({0, microseconds(static_cast<int64_t>(s.delay_ms * 1000)), s.loss, s.seed});
    if (!delay) fail(delay.status().to_string());
    std::fprintf(stderr, "real processes: %d nodes in a network namespace, %.0f ms between them...\n", s.nodes, s.delay_ms);
    bench::LoopbackNetwork network(dir / "real", s.nodes, {"--network", "crossval"}, {}, node_address);
    auto& nodes = network.nodes();

    const size_t count = static_cast<size_t>(s.nodes * s.users_per_node);
    std::vector<User> users(count);
    for (size_t u = 0; u < count; ++u) {
        auto c = network.register_user(static_cast<int>(u), nodes[u % nodes.size()]);
        if (auto seq = c->set_vcard({"user " + std::to_string(u), "", "", "", ""}); !seq)
            fail("publishing a vCard failed: " + seq.status().to_string());
        auto conn = client::ClientConnection::open(nodes[u % nodes.size()].client(),
                                                   network.login_credentials(static_cast<int>(u)), seconds(30));
        if (!conn) fail("a user cannot log in: " + conn.status().to_string());
        users[u].conn = std::move(conn).value();
        users[u].user_id = c->profile().user_id;
        users[u].device_id = c->device_id();
        if (auto f = users[u].conn->call("inbox.follow", {}, seconds(30)); !f || !f->status())
            fail("inbox.follow failed");
        std::fprintf(stderr, "\rusers: %zu/%zu", u + 1, count);
    }
    std::fprintf(stderr, "\n");

    // The workload, as the simulator's (sim/swarm/trial_clients.cpp).
    std::mt19937_64 rng(s.seed);
    auto arrival = [&](double rate) {
        return duration_cast<steady_clock::duration>(duration<double>(std::exponential_distribution<double>(rate)(rng)));
    };
    auto pick = [&] { return std::uniform_int_distribution<size_t>(0, count - 1)(rng); };
    const auto start = steady_clock::now();
    const auto measure_from = start + duration_cast<steady_clock::duration>(duration<double>(s.warmup_s));
    const auto measure_to = measure_from + duration_cast<steady_clock::duration>(duration<double>(s.measure_s));
    const auto end = measure_to + duration_cast<steady_clock::duration>(duration<double>(s.drain_s));
    auto next_resolve = start + arrival(s.resolves_per_s), next_message = start + arrival(s.messages_per_s);
    for (auto& u : users) u.next_fetch = start;

    Sample out;
    struct Resolve { steady_clock::time_point at; bool measured; };
    struct Message { steady_clock::time_point at; bool measured; bool delivered = false; };
    std::vector<Resolve> resolves;
    std::vector<Message> messages;
    std::vector<std::map<uint64_t, Asked>> asked(count);
    auto ask = [&](size_t u, const std::string& method, FrameParams params, Asked a) {
        auto id = users[u].conn->send(method, std::move(params));
        if (!id) fail("user " + std::to_string(u) + "'s session failed: " + id.status().to_string());
        asked[u][*id] = a;
    };
    auto delivered = [&](size_t u, const std::string& encoded, steady_clock::time_point now) {
        const auto id = users[u].inbox.take(encoded);
        if (!id || id->size() < 2) return;
        const size_t index = std::strtoul(id->c_str() + 1, nullptr, 10);
        if (index >= messages.size() || messages[index].delivered) return;
        messages[index].delivered = true;
        if (messages[index].measured) out.message_ms.push_back(duration<double, std::milli>(now - messages[index].at).count());
    };
    std::vector<pollfd> fds(count);
    for (auto now = steady_clock::now(); now < end; now = steady_clock::now()) {
        for (; now < measure_to && next_resolve <= now; next_resolve += arrival(s.resolves_per_s)) {
            const size_t asker = pick(), target = pick();
            resolves.push_back({now, now >= measure_from});
            out.resolves += resolves.back().measured;
            ask(asker, "get", {{"type", std::string("vcard")}, {"user_id", users[target].user_id}},
                {Asked::Kind::kResolve, resolves.size() - 1});
        }
        for (; now < measure_to && next_message <= now; next_message += arrival(s.messages_per_s)) {
            const size_t from = pick();
            size_t to = pick();
            while (to == from) to = pick();
            messages.push_back({now, now >= measure_from});
            out.messages += messages.back().measured;
            ask(from, "message.send",
                {{"to", users[to].user_id}, {"device", users[to].device_id}, {"id", "m" + std::to_string(messages.size() - 1)},
                 {"body", std::string(120, 'c')}, {"sent_ms", uint64_t{1}}},
                {Asked::Kind::kSend, messages.size() - 1});
        }
        for (size_t u = 0; u < count; ++u) {
            if (users[u].next_fetch <= now) {  // as the simulator's clients, every 60 s
                ask(u, "inbox.fetch", {{"max", uint64_t{256}}}, {Asked::Kind::kFetch, 0});
                users[u].next_fetch = now + seconds(60);
            }
            fds[u] = {users[u].conn->fd(), POLLIN, 0};
        }
        ::poll(fds.data(), fds.size(), 5);  // the simulator's clients look every 5 ms
        for (size_t u = 0; u < count; ++u) {
            if (!(fds[u].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            auto frame = users[u].conn->receive(milliseconds(100));
            if (!frame) fail("user " + std::to_string(u) + "'s session failed: " + frame.status().to_string());
            const auto at = steady_clock::now();
            if (frame->kind == "message") {
                if (auto bytes = frame->text("message", kMaxEncodedMessageBytes)) delivered(u, *bytes, at);
            } else if (frame->kind == "reply") {
                auto it = asked[u].find(frame->id);
                if (it == asked[u].end()) continue;
                const Asked a = it->second;
                asked[u].erase(it);
                if (a.kind == Asked::Kind::kResolve && frame->status() && resolves[a.index].measured)
                    out.resolve_ms.push_back(duration<double, std::milli>(at - resolves[a.index].at).count());
                if (a.kind == Asked::Kind::kFetch && frame->status())
                    if (auto list = frame->list("messages"))
                        for (const auto& bytes : *list) delivered(u, bytes, at);
            }
            if (!users[u].inbox.to_ack.empty()) {
                ask(u, "inbox.ack", {{"messages", users[u].inbox.to_ack}}, {Asked::Kind::kOther, 0});
                users[u].inbox.to_ack.clear();
            }
        }
    }
    const auto counts = (*delay)->counts();
    std::fprintf(stderr, "packets between nodes: %llu delayed, %llu dropped, %llu overflows\n",
                 static_cast<unsigned long long>(counts.passed), static_cast<unsigned long long>(counts.dropped),
                 static_cast<unsigned long long>(counts.overflows));
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    Settings s;
    std::vector<std::string> positional;
    const auto usage = [](FILE* to) {
        std::fprintf(to,
                     "usage: crossval_bench [NODES] [MEASURE_S] [--delay-ms D] [--loss P] [--users-per-node U]\n"
                     "                      [--resolves-per-s R] [--messages-per-s M] [--seed S]\n"
                     "Runs one network and workload in dhtalk-swarm and as dhtalk-node processes whose\n"
                     "packets wait D ms (default 20) in a netfilter queue; prints each side's resolve and\n"
                     "message latency at p50 and p90 and their ratio. Defaults: 20 nodes, 120 s, 4 users a\n"
                     "node. Needs root (docs/benchmarks.md).\n");
    };
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--help" || a == "-h") {
            usage(stdout);
            return 0;
        }
        if (a.rfind("--", 0) == 0 && i + 1 >= argc) {
            std::fprintf(stderr, "crossval_bench: %s needs a value\n", a.c_str());
            return 2;
        }
        auto value = [&] { return std::atof(argv[++i]); };
        if (a == "--delay-ms") s.delay_ms = value();
        else if (a == "--loss") s.loss = value();
        else if (a == "--users-per-node") s.users_per_node = static_cast<int>(value());
        else if (a == "--resolves-per-s") s.resolves_per_s = value();
        else if (a == "--messages-per-s") s.messages_per_s = value();
        else if (a == "--seed") s.seed = static_cast<uint64_t>(value());
        else if (a.rfind("--", 0) == 0) {
            usage(stderr);
            return 2;
        } else positional.push_back(a);
    }
    if (positional.size() > 0) s.nodes = std::atoi(positional[0].c_str());
    if (positional.size() > 1) s.measure_s = std::atof(positional[1].c_str());
    if (s.nodes < 2 || s.measure_s <= 0 || s.delay_ms < 0 || s.loss < 0 || s.loss >= 1 || s.users_per_node < 1 ||
        s.resolves_per_s <= 0 || s.messages_per_s <= 0) {
        std::fprintf(stderr, "crossval_bench: NODES >= 2, MEASURE_S > 0, rates > 0, a loss in [0, 1) are needed\n");
        return 2;
    }
    if (::geteuid() != 0) {
        std::fprintf(stderr, "crossval_bench: needs root: it makes a network namespace and iptables rules of its own\n");
        return 2;
    }
    log::set_level(log::Level::kError);
    test::TempDir dir;
    Sample sim, live;
    try {
        sim = simulated(s, dir.path());
        live = real(s, dir.path());
    } catch (const Failure& f) {
        std::fprintf(stderr, "\ncrossval_bench: %s\n", f.why.c_str());
        return 1;
    }

    std::printf("%d nodes, %d users, %.0f ms one way between nodes, loss %.3f, %.0f measured s; seed %llu\n", s.nodes,
                s.nodes * s.users_per_node, s.delay_ms, s.loss, s.measure_s, static_cast<unsigned long long>(s.seed));
    std::printf("%-22s %12s %12s %8s\n", "", "simulator", "processes", "ratio");
    auto row = [](const char* name, double a, double b) {
        std::printf("%-22s %12.1f %12.1f %8.3f\n", name, a, b, a > 0 ? b / a : 0.0);
    };
    row("resolve p50 ms", bench::percentile(sim.resolve_ms, 0.5), bench::percentile(live.resolve_ms, 0.5));
    row("resolve p90 ms", bench::percentile(sim.resolve_ms, 0.9), bench::percentile(live.resolve_ms, 0.9));
    row("resolve p99 ms", bench::percentile(sim.resolve_ms, 0.99), bench::percentile(live.resolve_ms, 0.99));
    row("message p50 ms", bench::percentile(sim.message_ms, 0.5), bench::percentile(live.message_ms, 0.5));
    row("message p75 ms", bench::percentile(sim.message_ms, 0.75), bench::percentile(live.message_ms, 0.75));
    row("message p90 ms", bench::percentile(sim.message_ms, 0.9), bench::percentile(live.message_ms, 0.9));
    row("message p99 ms", bench::percentile(sim.message_ms, 0.99), bench::percentile(live.message_ms, 0.99));
    std::printf("%-22s %5zu of %-5zu %5zu of %-5zu\n", "resolves answered", sim.resolve_ms.size(), sim.resolves,
                live.resolve_ms.size(), live.resolves);
    std::printf("%-22s %5zu of %-5zu %5zu of %-5zu\n", "messages delivered", sim.message_ms.size(), sim.messages,
                live.message_ms.size(), live.messages);
    return 0;
}
