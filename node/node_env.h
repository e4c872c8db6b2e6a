#pragma once
// NodeEnv: what a Node touches outside itself, built once per program.
// dhtalk-node's main builds the real one (system_node_env: the system clock,
// RocksDB in the data directory, the SMS provider the config names); tests
// and simulations build their own (a ManualClock, a MemoryStore that may
// outlive a node so that a restart keeps its data, a sender that records
// codes). Node::open takes every part from here and owns none of the
// choices.
//
// Not in the environment, by design: the random source of GnuTLS, from
// which keys and nonces come; a node must never run on a weaker one. The
// simulator seeds it by interposing getrandom() (sim/sim_entropy.h), in
// simulation programs only.
//
// Ownership: the clock and the peer transport are borrowed and must outlive
// every node opened with this environment; the drivers are shared with the
// nodes; the factories are called on the opening thread, and their results
// belong to the node. `wake` is called from any thread until Node::stop()
// returns.

#include <filesystem>
#include <functional>
#include <memory>

#include "common/clock.h"
#include "common/drivers.h"
#include "common/status.h"

namespace dht {
class SockAddr;
namespace net {
class DatagramSocket;
}
}  // namespace dht

namespace dhtalk {

namespace crypto {
class TlsCredentials;
struct NodeIdentity;
}
class ClientFront;
class ClientHandler;
class PeerNet;
class RecordDht;
class Store;
class VerificationSender;
struct ClientServerConfig;
struct DatagramCounters;
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

    // Where the node's blocking work takes its turns: the courier, the
    // catch-up and registrar workers (common/drivers.h). What blocks on
    // nothing runs on the node's own loop, in Node::tick().
    std::shared_ptr<Drivers> drivers;
    // OpenDHT's runner takes its turns there too. True: the datagram
    // socket's receive thread also runs it on what arrives (a running node:
    // no switch of threads per datagram); false: each datagram wakes its
    // drive instead (a simulation, where nothing runs outside the drivers).
    bool dht_loop_on_receive = true;
    // The datagram socket under the overlay's sockets (sealed, gossip).
    std::function<Result<std::unique_ptr<dht::net::DatagramSocket>>(
        const dht::SockAddr& bind4, const dht::SockAddr& bind6, std::shared_ptr<DatagramCounters> counters)>
        open_datagram_socket;
    // The peer service's stream transport: it listens on the node's port
    // and carries documents, catch-up and registrar requests to members.
    PeerNet* peer_net = nullptr;
    // The clients' transport, serving `handler`.
    std::function<Result<std::unique_ptr<ClientFront>>(const ClientServerConfig& config,
                                                       std::shared_ptr<crypto::TlsCredentials> credentials,
                                                       ClientHandler& handler, const Clock& clock)>
        open_client_front;
    // Whether the status and admin HTTP server listens (a simulation reads
    // Node::status() itself).
    bool serve_status = true;
    // A seed for the node's own random choices (the members documents are
    // passed on to, the member a catch-up asks), one call per node.
    std::function<uint64_t()> random_seed;
    // The node's identity (its key and certificate), kept in `dir`.
    std::function<Result<crypto::NodeIdentity>(const std::filesystem::path& dir)> load_identity;
    // What the front end reaches users' records through, given the node's
    // overlay; empty: the overlay itself. A simulation puts another storage
    // strategy there (sim/swarm/record_strategies.h) to compare it with the
    // DHT. Must outlive the node.
    std::function<RecordDht*(RecordDht& overlay)> records_dht;
};

// A real node's environment: `clock`, a RocksDB store in `dir`, the SMS
// provider named by --sms-provider, a thread per part, UDP, the peer service
// over TCP, the clients over TLS, and seeds from GnuTLS. `clock` must
// outlive every node.
NodeEnv system_node_env(const Clock& clock);

}  // namespace dhtalk
