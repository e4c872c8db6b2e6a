#pragma once
// NodeProcess: a dhtalk-node process for the process-level tests, on its own
// data directory with system-chosen ports, plus the `dhtalk` command line
// run against it.

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <json/json.h>

#include "node/runtime_info.h"
#include "testing/test_util.h"

namespace dhtalk::test {

std::string node_bin();
std::string cli_bin();

// `a` followed by `b`: a node's arguments with more.
std::vector<std::string> with(std::vector<std::string> a, const std::vector<std::string>& b);
// How many codes were sent to `phone` so far.
size_t codes_sent(const std::vector<std::filesystem::path>& data_dirs, const std::string& phone);
// The code the file SMS providers of the nodes in `data_dirs` wrote for
// `phone` (E.164) after the first `sent_before`, waiting up to 10 s for it,
// or "". The number's registrar (any member) sends it, and answers a
// forwarded request before it is written.
std::string verification_code(const std::vector<std::filesystem::path>& data_dirs, const std::string& phone,
                              size_t sent_before = 0);

class NodeProcess {
public:
    // Starts dhtalk-node with the data directory, loopback binding, and `args`
    // (the ports the system chooses, the DHT's and peer service's unless
    // `args` gives --dht-port).
    NodeProcess(const std::filesystem::path& data_dir, std::vector<std::string> args);

    // Waits for this process's runtime.json; fails the test if it never comes.
    RuntimeInfo wait_ready();
    // `dhtalk status --json` for this node.
    Json::Value status_json();
    // Runs `dhtalk ARGS... --data-dir DIR`.
    RunResult cli(std::vector<std::string> args);
    std::string log() const;

    std::filesystem::path data_dir;
    std::unique_ptr<Process> process;

private:
    std::filesystem::path scratch_;
};

}  // namespace dhtalk::test
