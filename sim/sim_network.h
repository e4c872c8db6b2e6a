#pragma once
// SimNetwork: an in-memory datagram network on virtual time. Hosts live at
// 127.0.0.1 with distinct ports (OpenDHT rewrites a learned loopback address
// to its informant's, keeping the port, so one address with many ports is what
// works), or, for more than 65,000 hosts, in the benchmarking range
// 198.18.0.0/15 (RFC 2544: never routed), 64 ports to an address. A
// LinkModel decides each datagram's latency or loss, and the datagrams from
// one host to another arrive in the order they were sent (a
// later one waits behind an earlier one, as on one path: OpenDHT 2.4.12
// drops the parts of a large value that overtake their header, and asks
// again a second later, which reordering would charge to every get); a heap of
// events (deliveries and wake-ups, ordered by time then by insertion) drives
// the hosts. The network sets the process's virtual clock (virtual_time.h) to
// each event's time before running it, so a simulated minute takes only as
// long as the hosts' work.
//
// Single-threaded: every call, and every SimHost callback, runs on the thread
// that calls run_until(). Hosts must be detached or outlive the network.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include <opendht/network_utils.h>
#include <opendht/sockaddr.h>

#include "common/clock.h"
#include "sim/link_model.h"

namespace dhtalk {

// Something that lives at a simulated address: an OpenDHT node, later a
// presence or membership core. Each call returns when the host next wants
// to be woken (SteadyTime::max() for no wake-up).
class SimHost {
public:
    virtual ~SimHost() = default;
    virtual SteadyTime on_datagram(const uint8_t* data, size_t size, const dht::SockAddr& from,
                                   SteadyTime now) = 0;
    virtual SteadyTime on_wake(SteadyTime now) = 0;
};

// Where hosts live: one loopback address with a port each (whole nodes: their
// own addresses for the peer service are 127.1.x.y), or the benchmarking
// range (bare OpenDHT nodes past 65,000).
enum class SimAddresses { kLoopback, kBenchmarkRange };

class SimNetwork {
public:
    using HostId = uint32_t;
    static constexpr size_t kMaxHosts = 65'000;              // kLoopback
    static constexpr size_t kMaxRangeHosts = 131'072 * 64;   // kBenchmarkRange

    struct Stats {
        uint64_t datagrams_sent = 0;
        uint64_t datagrams_delivered = 0;
        uint64_t datagrams_lost = 0;      // by the link model
        uint64_t datagrams_undeliverable = 0;  // no host attached at the address
        uint64_t bytes_sent = 0;
    };

    // Turns on the process's virtual clock, starting at the real time now.
    explicit SimNetwork(const LinkConfig& link, SimAddresses addresses = SimAddresses::kLoopback);
    // Turns virtual time off again.
    ~SimNetwork();
    SimNetwork(const SimNetwork&) = delete;
    SimNetwork& operator=(const SimNetwork&) = delete;

    // Reserves an address. At most kMaxHosts (kMaxRangeHosts in the range).
    HostId add_host();
    const dht::SockAddr& address(HostId host) const { return hosts_[host].address; }
    // The host at `address`, if there is one.
    std::optional<HostId> host_at(const dht::SockAddr& address) const;
    // A socket whose sends enter the network from `host`, attached as the
    // host's receiver: what reaches the host goes to the socket's
    // setOnReceive() callback, as from a UDP socket, so a chain of sockets
    // (sealed, gossip) runs on it unchanged. With an `owner` (an OpenDHT
    // node, a whole dhtalk node), each datagram is followed
    // by the owner's on_wake() (to read what the chain queued), wake-ups go
    // to the owner, and stopping the socket attaches the owner in its place;
    // without one, stopping or destroying it detaches the host. Destroy it
    // before the network.
    std::unique_ptr<dht::net::DatagramSocket> open_receiving_socket(HostId host, SimHost* owner = nullptr);
    // Attaches the receiver (nullptr: the host is down and datagrams to it vanish).
    void attach(HostId host, SimHost* receiver);

    void send(HostId from, const dht::SockAddr& to, const uint8_t* data, size_t size);
    // A host that is down sends and receives nothing (a crashed machine):
    // its datagrams vanish both ways, counted as lost.
    void set_down(HostId host, bool down) { hosts_[host].down = down; }
    // Datagrams sent from a to b vanish while `blocked(a, b)` holds (counted
    // as lost); nullptr heals every partition.
    void set_partition(std::function<bool(HostId, HostId)> blocked) { blocked_ = std::move(blocked); }
    // Whether a datagram from a to b could arrive now: neither is down and
    // no partition is between them (loss aside).
    bool passes(HostId a, HostId b) const {
        return !hosts_[a].down && !hosts_[b].down && !(blocked_ && blocked_(a, b));
    }
    // Extra one-way delay on everything `host` sends and receives (a slow
    // or far host).
    void set_extra_delay(HostId host, std::chrono::nanoseconds delay) { hosts_[host].extra_delay = delay; }
    // A cap on what `host` sends, bytes per second (0: none): a datagram
    // leaves once those before it have, and is dropped when it would wait
    // more than a second (a full queue).
    void set_uplink(HostId host, uint64_t bytes_per_second) { hosts_[host].uplink = bytes_per_second; }
    // Regions: `delays[a][b]` is added to the one-way latency from a host of
    // region a to one of region b. Hosts start in region 0.
    void set_region_delays(std::vector<std::vector<std::chrono::nanoseconds>> delays) { region_delays_ = std::move(delays); }
    void set_region(HostId host, uint32_t region) { hosts_[host].region = region; }
    // Delivers `data` to `to` now, as if from `from`, past the link model
    // (hostile-input tests).
    void inject(HostId from, HostId to, const uint8_t* data, size_t size);
    // Asks for `host` to be woken at `when` (a later request than a pending
    // one is ignored: the host re-arms itself on every call anyway).
    void wake_at(HostId host, SteadyTime when);
    void wake_now(HostId host) { wake_at(host, now_); }

    // A one-way delay from `from` to `to` for a stream (the peer service's
    // TCP): a datagram's latency on the link, never lost, with the regions'
    // and the hosts' extra delays.
    std::chrono::nanoseconds stream_delay(HostId from, HostId to);
    // Runs `call` at `when` (now, if that has passed), in order with the
    // deliveries and wake-ups.
    void call_at(SteadyTime when, std::function<void()> call);

    SteadyTime now() const { return now_; }
    // Runs every event up to and including `until`, then sets the clock to it.
    void run_until(SteadyTime until);
    void run_for(std::chrono::nanoseconds d) { run_until(now_ + d); }
    // Runs until `done()` is true or `limit` of virtual time has passed;
    // returns done().
    bool run_until_true(const std::function<bool()>& done, std::chrono::nanoseconds limit);

    const Stats& stats() const { return stats_; }
    // A digest of every delivery so far (time since the start, sender,
    // receiver, size): two runs that did the same have the same digest.
    uint64_t history_digest() const { return digest_; }
    uint64_t bytes_sent_by(HostId host) const { return hosts_[host].bytes_sent; }
    size_t host_count() const { return hosts_.size(); }

private:
    struct Host {
        dht::SockAddr address;
        SimHost* receiver = nullptr;
        bool down = false;
        std::chrono::nanoseconds extra_delay{0};
        SteadyTime next_wake = SteadyTime::max();
        uint64_t bytes_sent = 0;
        bool in_burst = false;     // the Gilbert-Elliott state of its link
        uint64_t uplink = 0;       // bytes per second; 0: no cap
        SteadyTime uplink_free{};  // when what it has queued has left
        uint32_t region = 0;
    };
    struct Event {
        SteadyTime at;
        uint64_t seq;  // tie-breaker: equal times run in insertion order
        HostId to;
        HostId from;   // for deliveries
        bool is_wake;
        std::vector<uint8_t> payload;
    };
    struct Call {
        SteadyTime at;
        uint64_t seq;  // from the same counter as the events'
        std::function<void()> call;
    };
    struct Later {
        template <class A, class B>
        bool operator()(const A& a, const B& b) const {
            return a.at != b.at ? a.at > b.at : a.seq > b.seq;
        }
    };

    void push(Event e);
    std::chrono::nanoseconds region_delay(HostId from, HostId to) const;  // set_region_delays(), 0 if unset
    void set_now(SteadyTime t);
    void arm(HostId host, SteadyTime next);

    LinkModel link_;
    SimAddresses addresses_;
    // (from << 32 | to) -> when the last datagram sent on that path arrives.
    std::unordered_map<uint64_t, SteadyTime> path_free_at_;
    uint32_t sends_since_sweep_ = 0;
    const SteadyTime start_;
    SteadyTime now_;
    uint64_t digest_ = 14695981039346656037ull;  // FNV-1a
    uint64_t next_seq_ = 0;
    std::vector<Host> hosts_;
    std::function<bool(HostId, HostId)> blocked_;
    std::vector<std::vector<std::chrono::nanoseconds>> region_delays_;
    std::vector<Event> events_;  // a min-heap under Later
    std::vector<Call> calls_;    // a min-heap under Later
    Stats stats_;
};

}  // namespace dhtalk
