#pragma once
// LoopbackNetwork: a network of dhtalk-node processes on loopback for the
// benchmarks: node 0 founds it, the others apply and are admitted by the
// members' votes (over each node's admin interface), and users register
// through the file provider. The node binary is the one built beside the
// benchmark. Processes are killed when the network goes.

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <json/json.h>

#include "node/runtime_info.h"
#include "testing/test_util.h"
#include "client/client.h"

namespace dhtalk::bench {

struct BenchNode {
    std::filesystem::path dir;
    std::unique_ptr<test::Process> process;
    RuntimeInfo rt;
    std::string secret;
    std::string client() const { return "127.0.0.1:" + std::to_string(rt.client_port); }
};

class LoopbackNetwork {
public:
    // Founds a network of `nodes` nodes under `dir`, each started with `args`
    // as well, and node i with `args_of(i)`; prints progress on stderr;
    // exits the program if it cannot. The nodes' DHT and peer sockets are
    // on `node_address` (a loopback address), their client front ends and
    // status pages on 127.0.0.1.
    LoopbackNetwork(const std::filesystem::path& dir, int nodes, const std::vector<std::string>& args,
                    const std::function<std::vector<std::string>(int)>& args_of = {},
                    const std::string& node_address = "127.0.0.1");
    ~LoopbackNetwork();

    std::vector<BenchNode>& nodes() { return nodes_; }
    Json::Value status(const BenchNode& n) const;
    // Registers +1555100NNNN on node `home` with a profile under the
    // directory; with `client_ms`, the time of the two requests (register,
    // verify), without the wait for the code, which stands for the SMS.
    // Exits the program, ending the nodes, if the registration fails.
    std::unique_ptr<client::Client> register_user(int number, const BenchNode& home, double* client_ms = nullptr);
    // The TLS credentials user `number`'s client logs in with (its profile's
    // certificate and key), for a bench that opens sessions of its own.
    std::shared_ptr<crypto::TlsCredentials> login_credentials(int number) const;

private:
    // Says why on stderr and exits, ending the node processes (exit() runs
    // no destructor of the caller's).
    [[noreturn]] void fail(const std::string& why);

    std::filesystem::path dir_;
    std::vector<BenchNode> nodes_;
};

}  // namespace dhtalk::bench
