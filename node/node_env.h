#pragma once
// NodeEnv: what a Node touches outside itself, built once per program.
// dhtalk-node's main builds the real one (system_node_env: the system clock,
// RocksDB in the data directory, the SMS provider the config names); tests
// and simulations build their own (a ManualClock, a MemoryStore that may
// outlive a node so that a restart keeps its data, a sender that records
// codes). Node::open takes every part from here and owns none of the
// choices.
//
// Still built by the node itself, and so not yet replaceable: its sockets
// (UDP, the peer service's and the front end's TCP), OpenDHT's runner, the
// random source (GnuTLS) and the identity file in the data directory.
//
// Ownership: the clock is borrowed and must outlive every node opened with
// this environment; the factories are called on the opening thread, once
// per Node::open, and their results belong to the node. `wake` is called
// from any thread until Node::stop() returns.

#include <filesystem>
#include <functional>
#include <memory>

#include "common/clock.h"
#include "common/status.h"

namespace dhtalk {

class Store;
class VerificationSender;
struct NodeConfig;

struct NodeEnv {
    const Clock* clock = nullptr;
    // Opens the node's durable state; `dir` is where a store on disk keeps it.
    std::function<Result<std::unique_ptr<Store>>(const std::filesystem::path& dir)> open_store;
    // How verification codes reach phones.
    std::function<std::unique_ptr<VerificationSender>(const NodeConfig&)> make_sms_sender;
    // Asks the node's owner to call Node::tick() soon: the node calls it,
    // from any thread, when it has posted work onto its loop. Empty for an
    // owner that ticks on a schedule of its own (the work waits for it).
    std::function<void()> wake;
};

// A real node's environment: `clock`, a RocksDB store in `dir`, and the SMS
// provider named by --sms-provider. `clock` must outlive every node.
NodeEnv system_node_env(const Clock& clock);

}  // namespace dhtalk
