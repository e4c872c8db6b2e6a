#pragma once
// Overlay: this node's place in the network's OpenDHT overlay. It owns an
// OpenDHT DhtRunner, starts it on the configured address, bootstraps, and
// stops it the way 2.4.12 needs: shutdown(callback), wait for the callback
// with a timeout, then join(). The runner runs on a thread of its own, or,
// given Drivers, as a turn of theirs: then it is woken after each request
// and each datagram (or the receive thread runs it: loop_on_receive), and
// stop() does not wait.
//
// Thread-safety: every method may be called from any thread (DhtRunner
// serialises access to its node); start/stop are called by the owner only.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <opendht/dhtrunner.h>

#include "common/clock.h"
#include "common/drivers.h"
#include "common/host_port.h"
#include "common/shared_wakeup.h"
#include "common/status.h"
#include "dht/record_dht.h"
#include "net/gossip_socket.h"
#include "net/sealed_socket.h"
#include "net/udp_socket.h"

namespace dhtalk {

struct OverlayConfig {
    // Address to bind; empty binds every interface, IPv4 and IPv6.
    std::string bind_address;
    uint16_t port = 0;  // 0: any free port
    dht::NetId network_id = 0;
    dht::InfoHash node_id;
    std::vector<std::string> bootstrap;  // "host:port"
    // Far above the node's own data: OpenDHT 2.4.12 spins forever when a
    // node's own values exceed it.
    size_t max_store_bytes = 256u << 20;
    // Requests per second answered from one IP address (OpenDHT's limit per
    // peer); 0: no limit. Every node of a loopback network is 127.0.0.1.
    unsigned requests_per_address = 1024;
    // Sealed overlay: every datagram sealed under this epoch key (see
    // sealed_socket.h). Unset: open mode, plain OpenDHT datagrams.
    std::optional<EpochKey> seal_key;
    // With seal_key: seal only the membership and presence gossip, and let
    // OpenDHT's own datagrams pass in the clear (an open network with a
    // roster, which stock OpenDHT peers may join).
    bool seal_gossip_only = false;
    // Sealed overlay: the host peers reach this node at (a name or an
    // address, resolved once), which sealed datagrams bind to their path.
    // Empty: the bound address.
    std::string advertise;
    // Called once the runner runs, before any stored value is restored or
    // any peer is contacted: the place to register value types and their
    // store policies, so that no value arrives before its policy.
    std::function<void(dht::DhtRunner&)> before_bootstrap;
    // How long the previous epoch key still opens datagrams after a change.
    std::chrono::milliseconds seal_grace{std::chrono::seconds(30)};
    // Opens the socket under the chain, bound as asked (IPv4 and/or IPv6),
    // counting into `counters`. Empty: UDP (udp_socket.h).
    std::function<Result<std::unique_ptr<dht::net::DatagramSocket>>(
        const dht::SockAddr& bind4, const dht::SockAddr& bind6, std::shared_ptr<DatagramCounters> counters)>
        open_socket;
    // Set: the runner has no thread, and its loop is a turn of these, which
    // must outlive the overlay. Null: OpenDHT's own thread.
    Drivers* drivers = nullptr;
    // With drivers: the socket's receive thread runs the loop itself on
    // what it drained, and the drive's turns run the timers and the
    // requests. A running node's datagrams then reach OpenDHT without a
    // switch of threads (measured in docs/benchmarks.md). The loop runs
    // under the gossip socket's handler lock, which stop() takes to end
    // the hook, so nothing that OpenDHT calls back may set a gossip handler.
    // Unset (a simulation, one thread): each datagram wakes the drive.
    bool loop_on_receive = false;
};

struct OverlayStats {
    unsigned peers_ipv4 = 0;   // good + dubious nodes in the routing table
    unsigned peers_ipv6 = 0;
    size_t values_stored = 0;
    size_t bytes_stored = 0;
    // OpenDHT requests by kind, since start: ping, find, get, listen, put.
    uint64_t requests_in = 0;
    uint64_t requests_out = 0;
    // Datagrams and their bytes through the node's socket, since start.
    uint64_t datagrams_in = 0;
    uint64_t datagrams_out = 0;
    uint64_t bytes_in = 0;
    uint64_t bytes_out = 0;
    // Sealed mode: datagrams refused by the sealed transport, all reasons.
    uint64_t datagrams_refused = 0;
};

class Overlay final : public RecordDht {
public:
    // Binds, restores `restored` values (from ValueArchive) into storage, and
    // starts bootstrapping. Fails with kBusy when the port is taken.
    // `clock` (the sealed socket's time) must outlive the overlay.
    static Result<std::unique_ptr<Overlay>> start(const OverlayConfig& config,
                                                  const std::vector<dht::ValuesExport>& restored, const Clock& clock);
    ~Overlay() override;

    uint16_t port_ipv4() const { return port4_; }
    uint16_t port_ipv6() const { return port6_; }
    dht::NetId network_id() const { return network_id_; }

    OverlayStats stats();
    std::vector<dht::ValuesExport> export_values();
    // The runner, for put/get/listen (thread-safe in OpenDHT). A driven
    // runner (OverlayConfig::drivers) runs what is queued on it only at its
    // next turn: call wake() after queueing.
    dht::DhtRunner& runner() { return runner_; }
    // A driven runner's turn soon (no-op on OpenDHT's own thread).
    void wake() {
        if (drive_) drive_->wake();
    }

    // RecordDht: a record is a permanent put (OpenDHT re-announces it) of
    // its type's value with the one record value id.
    void put_record(const dht::InfoHash& key, RecordType type, const std::string& envelope,
                    std::function<void(bool stored)> done) override;
    void get_records(const dht::InfoHash& key, RecordType type, std::function<void(std::string_view)> found,
                     std::function<void()> done) override;
    void put_issued(const std::string& user_id, const std::string& pem, std::function<void(bool stored)> done) override;
    void get_issued(const std::string& user_id, std::function<void(std::string_view)> found,
                    std::function<void()> done) override;

    // Every datagram sealed (a sealed overlay).
    bool sealed() const { return sealed_ != nullptr && !gossip_only_; }
    // At least the gossip sealed: set_seal_key() applies.
    bool seals_gossip() const { return sealed_ != nullptr; }
    // The membership and presence protocols' way onto the DHT's socket.
    // Valid until stop().
    GossipSocket* gossip() { return gossip_; }
    // Seals with `key` from now on (the previous key keeps opening datagrams
    // for the configured grace). kInvalidArgument if nothing is sealed.
    Status set_seal_key(const EpochKey& key);

    // Leaves the overlay. Waits at most `timeout` for OpenDHT to finish its
    // shutdown work; returns kTimeout (after stopping anyway) if it did not.
    Status stop(std::chrono::milliseconds timeout);

private:
    explicit Overlay(const Clock& clock) : clock_(clock) {}
    // The drive's turn, and the receive thread's loop (loop_on_receive).
    SteadyTime drive_turn();
    void loop_after_receive();
    // One loop of the runner; when it wants its next one.
    SteadyTime loop_once();

    dht::DhtRunner runner_;
    uint16_t port4_ = 0;
    uint16_t port6_ = 0;
    dht::NetId network_id_ = 0;
    bool stopped_ = false;
    bool driven_ = false;  // the runner has no thread of its own (OverlayConfig::drivers)
    // The better of the IPv4 and IPv6 states, as OpenDHT last reported it.
    std::atomic<dht::NodeStatus> status_{dht::NodeStatus::Disconnected};
    // getNodeMessageStats() resets OpenDHT's counters on every call, so the
    // totals are kept here.
    std::atomic<uint64_t> requests_in_{0};
    std::atomic<uint64_t> requests_out_{0};
    std::shared_ptr<DatagramCounters> counters_ = std::make_shared<DatagramCounters>();
    std::shared_ptr<SealCounters> seal_counters_ = std::make_shared<SealCounters>();
    std::chrono::milliseconds seal_grace_{0};
    const Clock& clock_;
    // Owned by OpenDHT's node inside runner_; valid until stop().
    SealedSocket* sealed_ = nullptr;
    bool gossip_only_ = false;
    GossipSocket* gossip_ = nullptr;
    std::unique_ptr<Drive> drive_;  // a driven runner's turns; ended before the runner stops
    bool loop_on_receive_ = false;
    SharedWakeup wakeup_;  // loop_on_receive: the drive's and the receive thread's loops
};

// The OpenDHT logger that writes to dhtalk's log; null (no OpenDHT logging)
// unless the log level is debug.
std::shared_ptr<dht::Logger> make_dht_logger();

}  // namespace dhtalk
