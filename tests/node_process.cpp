#include "tests/node_process.h"

#include <algorithm>

#include <fstream>

#include <atomic>
#include <optional>

#include "common/json.h"

#include "tests/doctest.h"

namespace dhtalk::test {

std::string node_bin() { return program_path("DHTALK_NODE_BIN"); }
std::string cli_bin() { return program_path("DHTALK_CLI_BIN"); }

namespace {
std::atomic<int> g_instances{0};
}

NodeProcess::NodeProcess(const std::filesystem::path& dir, std::vector<std::string> args) : data_dir(dir) {
    std::filesystem::create_directories(dir);
    // Logs beside the data directory, one pair per process, so that a second
    // process on the same directory does not overwrite the first one's.
    scratch_ = dir.parent_path() / (dir.filename().string() + "-run" + std::to_string(g_instances++));
    std::filesystem::create_directories(scratch_);
    std::vector<std::string> argv{node_bin(), "--data-dir", dir.string(), "--bind", "127.0.0.1",
                                  "--http-port", "0", "--client-port", "0", "--client-bind", "127.0.0.1", "--persist-interval", "1"};
    // Any free port, unless the test gives one (to restart a member where the roster knows it).
    if (std::find(args.begin(), args.end(), "--dht-port") == args.end()) argv.insert(argv.end(), {"--dht-port", "0"});
    argv.insert(argv.end(), args.begin(), args.end());
    process = std::make_unique<Process>(argv, scratch_ / "out.log", scratch_ / "err.log");
}

RuntimeInfo NodeProcess::wait_ready() {
    std::optional<RuntimeInfo> info;
    const bool ok = wait_until(
        [&] {
            auto r = read_runtime_info(data_dir);
            if (r && r->pid == process->pid()) info = *r;
            return info.has_value() || !process->running();
        },
        std::chrono::seconds(60));
    REQUIRE_MESSAGE((ok && info), "node did not start: " << log());
    return *info;
}

Json::Value NodeProcess::status_json() {
    auto r = cli({"status", "--json"});
    REQUIRE_MESSAGE(r.status == 0, r.err);
    auto j = json::parse_object(r.out);
    REQUIRE(j.is_ok());
    return *j;
}

RunResult NodeProcess::cli(std::vector<std::string> args) {
    args.insert(args.begin(), cli_bin());
    args.push_back("--data-dir");
    args.push_back(data_dir.string());
    return run(args, scratch_);
}

std::vector<std::string> with(std::vector<std::string> a, const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

namespace {
// The codes sent to `phone` so far, oldest first (one registrar sends them all).
std::vector<std::string> codes_in(const std::vector<std::filesystem::path>& data_dirs, const std::string& phone) {
    std::vector<std::string> codes;
    for (const auto& dir : data_dirs) {
        std::ifstream in(dir / "verification-codes.jsonl");
        std::string line;
        while (std::getline(in, line)) {
            auto j = json::parse_object(line);
            if (j && (*j)["phone"].asString() == phone) codes.push_back((*j)["code"].asString());
        }
    }
    return codes;
}
}  // namespace

size_t codes_sent(const std::vector<std::filesystem::path>& data_dirs, const std::string& phone) {
    return codes_in(data_dirs, phone).size();
}

std::string verification_code(const std::vector<std::filesystem::path>& data_dirs, const std::string& phone,
                              size_t sent_before) {
    // A registrar on another node answers once the code is queued for its
    // provider: the code is the one after those sent before.
    std::vector<std::string> codes;
    wait_until([&] { return (codes = codes_in(data_dirs, phone)).size() > sent_before; }, std::chrono::seconds(10));
    return codes.size() > sent_before ? codes.back() : std::string();
}

std::string NodeProcess::log() const { return read_text(scratch_ / "err.log"); }

}  // namespace dhtalk::test
