#pragma once
// GossipCluster: many nodes' membership (swim.h) and presence (presence.h)
// cores on a simulated network, in virtual time, for the tests and the
// benchmarks, wired as a node wires them: a member declared dead by a node's
// membership core is reported to its presence core, and live members are the
// presence core's members. Datagrams carry a one-byte channel tag, as on the
// gossip socket. Each node is a host on a SimNetwork (sim_network.h), whose
// link model, partitions and per-host delays the datagrams meet; nodes can
// be stopped, slowed or cut off from each other. The network runs events in
// time order, ties in insertion order, so a run replays exactly from its
// seed. It drives the process's virtual clock: one cluster (or other
// simulation) at a time. Not thread-safe.

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sim/link_model.h"
#include "sim/sim_network.h"
#include "node/gossip/presence.h"
#include "node/gossip/swim.h"

namespace dhtalk {

// The simulated links of the tests and benchmarks: log-normal latency around
// `median`, independent loss.
LinkConfig simulated_link(double loss, uint64_t seed, std::chrono::milliseconds median = std::chrono::milliseconds(50));

class GossipCluster {
public:
    GossipCluster(size_t nodes, const SwimConfig& config, const LinkConfig& link, uint64_t seed,
                  const PresenceConfig& presence = {});
    ~GossipCluster();

    // Runs until `t` (virtual time since the start).
    void run_until(std::chrono::milliseconds t);
    std::chrono::milliseconds now() const;
    // The virtual time the cluster started at (cores' times count from it).
    SteadyTime start() const { return start_; }

    Swim& node(size_t i) { return *nodes_[i]; }
    PresenceChannel& presence(size_t i) { return *presence_[i]; }
    // Presence actions on node i, at the current virtual time.
    // The user's client gives its privacy list (the last set_privacy) at
    // once, unless `without_list`: one that has not given it yet.
    void login(size_t i, const std::string& user, bool without_list = false);
    void logout(size_t i, const std::string& user);
    Status set_presence(size_t i, const std::string& user, const std::string& show, const std::string& status = {});
    void watch(size_t i, const std::string& watcher, const std::string& target);
    // The user's list, given to node i now and on every later login.
    void set_privacy(size_t i, const std::string& user, PrivacyList list);
    int64_t wall_ms() const;
    struct Delivered {
        size_t node;
        std::chrono::milliseconds at;
        PresenceDelivery delivery;
    };
    const std::vector<Delivered>& delivered() const { return delivered_; }
    const std::string& id(size_t i) const { return ids_[i]; }
    size_t size() const { return nodes_.size(); }

    // A stopped node neither sends nor receives; started again, it comes back
    // as a fresh core with a higher incarnation, as a restarted node would.
    void stop(size_t i);
    void restart(size_t i);
    bool running(size_t i) const { return up_[i]; }
    // Datagrams between a and b are dropped while `blocked(a, b)` holds.
    void set_partition(std::function<bool(size_t, size_t)> blocked);
    // Extra one-way delay on everything node i sends and receives.
    void set_extra_delay(size_t i, std::chrono::milliseconds d) { network_.set_extra_delay(host(i), d); }
    enum Channel : char { kMembership = 1, kPresence = 2 };
    // Sends raw bytes as if from node `from` (for hostile-input tests).
    void inject(size_t from, size_t to, std::string bytes, Channel channel = kMembership);

    // Every state change any running node saw, in order.
    struct Observed {
        size_t observer;
        SwimEvent event;
    };
    const std::vector<Observed>& history() const { return history_; }
    uint64_t datagrams_sent() const { return sent_; }
    uint64_t bytes_sent() const { return bytes_; }
    // Presence bytes node i has sent (membership traffic not counted).
    uint64_t presence_bytes_sent(size_t i) const { return presence_bytes_[i]; }
    // Presence bytes delivered to node i.
    uint64_t presence_bytes_received(size_t i) const { return presence_bytes_in_[i]; }

private:
    class Host;
    static SimNetwork::HostId host(size_t i) { return static_cast<SimNetwork::HostId>(i); }
    void make_node(size_t i, uint64_t incarnation);
    void route(size_t i, std::vector<SwimDatagram> datagrams, Channel channel);
    void flush(size_t i);
    // A datagram reached node i from `from`: to the core its channel names.
    void receive(size_t i, size_t from, std::string_view bytes);
    // A node's cores were called: collect what they produced; returns when
    // they next want a tick.
    SteadyTime after(size_t i);
    SteadyTime now_time() const { return network_.now(); }

    class Signer;

    SwimConfig config_;
    uint64_t seed_;
    SimNetwork network_;  // node i is host i
    SteadyTime start_;
    std::vector<std::unique_ptr<Host>> hosts_;
    std::vector<std::string> ids_;
    std::vector<std::unique_ptr<Swim>> nodes_;
    std::unique_ptr<Signer> signer_;
    std::vector<std::unique_ptr<PresenceChannel>> presence_;
    std::map<std::string, PrivacyList> privacy_;  // each user's list, given again on every login
    PresenceConfig presence_config_;
    std::vector<uint64_t> presence_bytes_;
    std::vector<uint64_t> presence_bytes_in_;
    std::vector<Delivered> delivered_;
    std::vector<bool> up_;
    std::vector<Observed> history_;
    uint64_t sent_ = 0, bytes_ = 0;
};

}  // namespace dhtalk
