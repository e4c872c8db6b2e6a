#include "testing/loopback_network.h"

#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <thread>
#include <httplib.h>

#include "testing/bench_util.h"
#include "client/client_profile.h"
#include "common/json.h"
#include "crypto/signing.h"
#include "crypto/tls.h"
#include "node/node.h"

namespace dhtalk::bench {

using namespace std::chrono;

namespace {

std::filesystem::path node_binary() {
    return std::filesystem::read_symlink("/proc/self/exe").parent_path().parent_path() / "node" / "dhtalk-node";
}

RuntimeInfo wait_runtime(BenchNode& n) {
    std::optional<RuntimeInfo> info;
    test::wait_until([&] {
        auto r = read_runtime_info(n.dir);
        if (r && r->pid == n.process->pid()) info = *r;
        return info.has_value() || !n.process->running();
    }, seconds(60));
    if (!info) {
        std::fprintf(stderr, "node in %s did not start\n", n.dir.c_str());
        std::exit(1);
    }
    return *info;
}

bool vote(const BenchNode& voter, const std::string& subject) {
    httplib::Client c("127.0.0.1", voter.rt.http_port);
    Json::Value body;
    body["change"] = "admit";
    body["decision"] = "approve";
    body["node_id"] = subject;
    auto res = c.Post("/admin/vote", httplib::Headers{{kAdminSecretHeader, voter.secret}}, json::to_compact(body),
                      "application/json");
    return res && res->status == 200;
}

// The code the number's registrar (any member) sent to `phone`, or "".
std::string code_in(const std::vector<BenchNode>& nodes, const std::string& phone) {
    std::string code;
    for (const auto& n : nodes) {
        std::ifstream in(n.dir / "verification-codes.jsonl");
        std::string line;
        while (std::getline(in, line)) {
            auto j = json::parse_object(line);
            if (j && (*j)["phone"].asString() == phone) code = (*j)["code"].asString();
        }
    }
    return code;
}

// The same, waiting up to 10 s: a registrar on another node answers once
// the code is queued for its provider, before it is written.
std::string code_for(const std::vector<BenchNode>& nodes, const std::string& phone) {
    for (int i = 0; i < 500; ++i) {
        if (auto code = code_in(nodes, phone); !code.empty()) return code;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return {};
}

// The nodes' --log-level: warning, or DHTALK_BENCH_LOG_LEVEL (info shows
// each node's roster, membership and registrar decisions).
std::string node_log_level() {
    const char* level = std::getenv("DHTALK_BENCH_LOG_LEVEL");
    return level && *level ? level : "warning";
}

}  // namespace

LoopbackNetwork::LoopbackNetwork(const std::filesystem::path& dir, int count, const std::vector<std::string>& extra,
                                 const std::function<std::vector<std::string>(int)>& args_of,
                                 const std::string& node_address)
    : dir_(dir), nodes_(static_cast<size_t>(count)) {
    if (std::error_code ec; !std::filesystem::exists(node_binary(), ec)) {
        // A benchmark cannot go on without it, and an exception here would
        // end it with no word of why.
        std::fprintf(stderr, "error: no dhtalk-node at %s: build the project first (scripts/build.sh)\n",
                     node_binary().c_str());
        std::exit(1);
    }
    const double t0 = wall_seconds();
    for (int i = 0; i < count; ++i) {
        BenchNode& n = nodes_[static_cast<size_t>(i)];
        n.dir = dir / ("node" + std::to_string(i));
        std::filesystem::create_directories(n.dir);
        std::vector<std::string> args{node_binary().string(), "--data-dir", n.dir.string(), "--bind", node_address,
                                      "--dht-port", "0", "--http-port", "0", "--client-port", "0", "--client-bind",
                                      "127.0.0.1", "--roster-interval-ms", "200", "--log-level", node_log_level(),
                                      // every node has one address: OpenDHT's limit per address would count them as one
                                      "--dht-requests-per-address", "0",
                                      // and so is every user: a registrar ranked first for a few of
                                      // them, and fronting others, would run out of attempts
                                      "--registrations-per-address", "1000000"};
        args.insert(args.end(), extra.begin(), extra.end());
        if (args_of) {
            const auto own = args_of(i);
            args.insert(args.end(), own.begin(), own.end());
        }
        if (i == 0) {
            args.push_back("--genesis");
        } else {
            args.insert(args.end(), {"--apply", "bench node " + std::to_string(i), "--bootstrap",
                                     node_address + ":" + std::to_string(nodes_[0].rt.peer_port)});
        }
        n.process = std::make_unique<test::Process>(args, dir / ("out" + std::to_string(i)), dir / ("err" + std::to_string(i)));
        n.rt = wait_runtime(n);
        n.secret = read_admin_secret(n.dir).value();
        // Votes until the applicant is admitted: a member that has adopted the
        // new epoch refuses a vote on a member, and would be asked for 30 s.
        auto admitted = [&] { return status(n)["standing"].asString() == "member"; };
        for (int j = 0; j < i && !admitted(); ++j)
            test::wait_until([&] { return vote(nodes_[static_cast<size_t>(j)], n.rt.node_id) || admitted(); }, seconds(30));
        if (!test::wait_until(admitted, seconds(30))) fail("node " + std::to_string(i) + " was not admitted within 30 s");
        n.rt = wait_runtime(n);  // the DHT port, now that it has joined
        std::fprintf(stderr, "\rfounding the network: %d/%d members", i + 1, count);
    }
    // Every node must know the whole roster before users register: a number's
    // registrar is ranked among the members a node knows, and a node that
    // learns of the last member between the register and the verify asks
    // another registrar for the code.
    for (size_t i = 0; i < nodes_.size(); ++i)
        if (!test::wait_until([&] { return status(nodes_[i])["members"].asInt() == count; }, seconds(30)))
            fail("node " + std::to_string(i) + " does not know all " + std::to_string(count) + " members after 30 s");
    std::fprintf(stderr, " (%.1f s)\n", wall_seconds() - t0);
}

void LoopbackNetwork::fail(const std::string& why) {
    std::fprintf(stderr, "\n%s\n", why.c_str());
    nodes_.clear();
    std::exit(1);
}

LoopbackNetwork::~LoopbackNetwork() {
    for (auto& n : nodes_)
        if (n.process) n.process->signal(SIGTERM);
    for (auto& n : nodes_)
        if (n.process) n.process->wait(seconds(20));
}

Json::Value LoopbackNetwork::status(const BenchNode& n) const {
    httplib::Client c("127.0.0.1", n.rt.http_port);
    auto res = c.Get("/status");
    if (!res) return {};
    auto j = json::parse_object(res->body);
    return j ? *j : Json::Value();
}

std::unique_ptr<client::Client> LoopbackNetwork::register_user(int number, const BenchNode& home,
                                                              double* client_ms) {
    client::ClientOptions o;
    o.profile_dir = dir_ / ("user" + std::to_string(number));
    o.nodes = {home.client()};
    auto c = client::Client::open(o).value();
    char phone[32];
    std::snprintf(phone, sizeof phone, "+1555100%04d", number);
    const double t0 = wall_seconds();
    auto id = c->register_number(phone);
    const double asked = wall_seconds() - t0;
    const std::string code = id ? code_for(nodes_, phone) : std::string();
    const double t1 = wall_seconds();
    Status verified = id ? c->verify(code) : id.status();
    if (client_ms) *client_ms = (asked + wall_seconds() - t1) * 1000;
    if (!verified) fail("registration failed: " + verified.to_string());
    return c;
}

std::shared_ptr<crypto::TlsCredentials> LoopbackNetwork::login_credentials(int number) const {
    auto profile = client::Profile::load(dir_ / ("user" + std::to_string(number))).value();
    auto cert = crypto::parse_certificate(profile.certificate).value();
    return crypto::TlsCredentials::with_certificate(*cert, *profile.key).value();
}

}  // namespace dhtalk::bench
