#pragma once
// GossipService: runs a node's membership (swim.h) and presence
// (presence.h) cores on the overlay's socket (gossip_socket.h), on a drive
// of its own (common/drivers.h). It maps member ids to the endpoints of the roster,
// signs presence with the node's key and checks other nodes' presence
// against the roster's certificates, reports members declared dead to the
// presence core, and hands presence for local watchers to a callback.
// The front end calls in for its users (login, logout, set, watch, get).
//
// Thread-safety: every public method may be called from any thread; one
// mutex guards the cores. The delivery callback runs in the service's turn
// (or on the caller's thread), without that lock but under a lock of its own:
// on_delivery() waits for a running callback, so what the old callback
// uses may be destroyed once it returns. The callback must not call back
// into the service.

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>

#include "common/drivers.h"
#include "crypto/node_identity.h"
#include "net/gossip_socket.h"
#include "node/trust/member_directory.h"
#include "node/gossip/presence.h"
#include "node/gossip/swim.h"

namespace dhtalk {

struct GossipServiceConfig {
    SwimConfig swim;
    PresenceConfig presence;
    std::chrono::milliseconds get_timeout{std::chrono::seconds(3)};  // a one-off get waits this long at most
};

struct GossipServiceStats {
    uint64_t members_alive = 0, members_suspect = 0, members_dead = 0;
    uint64_t presence_sent = 0, presence_received = 0, refused = 0;
    // Payload bytes sent on each channel, since start (sealing not counted).
    uint64_t membership_bytes_out = 0, presence_bytes_out = 0;
};

class GossipService {
public:
    // `identity` must outlive the service (it signs); `members` answers certificates
    // for signature checks. `incarnation` must grow across restarts. `clock`
    // and `drivers` must outlive the service.
    GossipService(GossipServiceConfig config, const crypto::NodeIdentity& identity,
                  std::shared_ptr<MemberDirectory> members, uint64_t incarnation, const Clock& clock,
                  Drivers& drivers);
    ~GossipService();

    // Starts and stops using the overlay's socket (valid between the calls).
    void attach(GossipSocket* socket);
    void detach();
    // The roster's members: node id -> endpoints (HOST:PORT).
    void set_members(const std::map<std::string, std::vector<std::string>>& endpoints);
    void set_load(uint32_t sessions, uint32_t capacity);

    void login(const std::string& user);
    void logout(const std::string& user);
    // The node is stopping: every local user becomes unavailable now, rather
    // than when the others declare this node dead.
    void logout_all();
    Status set(const std::string& user, const std::string& show, const std::string& status);
    void set_privacy(const std::string& user, PrivacyList list);
    // Watches are held (presence.h): a target stays watched until every
    // watch of it ends.
    Status watch(const std::string& watcher, const std::string& target);
    void unwatch(const std::string& watcher, const std::string& target);
    // The presence of `target` as `watcher` may see it: at once if known
    // here, else after watching it for up to get_timeout (nullopt then).
    void get(const std::string& watcher, const std::string& target, std::function<void(std::optional<Presence>)> done);

    // Replaces the delivery callback; returns once the previous one is no
    // longer running anywhere.
    void on_delivery(std::function<void(const PresenceDelivery&)> callback);
    GossipServiceStats stats() const;
    // Every other member as the membership protocol sees it (state, load).
    std::vector<MemberView> members() const;
    std::chrono::milliseconds detection_bound() const;

private:
    struct Inbound {
        uint8_t channel;
        std::string bytes;
        std::string from;  // "host:port"
    };
    struct PendingGet {
        std::string watcher, target;
        SteadyTime deadline;
        std::function<void(std::optional<Presence>)> done;
    };
    class Signer;
    uint64_t membership_bytes_out_ = 0, presence_bytes_out_ = 0;  // guarded by mutex_

    template <class Action>
    auto act(Action action);
    // Takes in what arrived, runs the cores' timers, answers one-off gets.
    SteadyTime turn(SteadyTime now);
    // With mutex_ held: sends what the cores produced, collects deliveries.
    void flush(std::vector<PresenceDelivery>& deliveries);
    void finish(std::vector<PresenceDelivery>& deliveries, std::vector<std::pair<PendingGet, std::optional<Presence>>>& done);
    int64_t wall_ms() const;

    GossipServiceConfig config_;
    std::unique_ptr<Signer> signer_;
    const Clock& clock_;

    mutable std::mutex mutex_;
    Swim swim_;                 // guarded by mutex_
    PresenceChannel presence_;  // guarded by mutex_
    GossipSocket* socket_ = nullptr;  // guarded by mutex_
    std::map<std::string, dht::SockAddr> address_of_;  // guarded by mutex_: member id -> address
    std::map<std::string, std::string> member_at_;     // guarded by mutex_: "host:port" -> member id
    std::vector<PendingGet> gets_;                    // guarded by mutex_
    std::deque<Inbound> inbox_;                       // guarded by mutex_
    std::mutex delivery_mutex_;  // never taken with mutex_ held
    std::function<void(const PresenceDelivery&)> on_delivery_;  // guarded by delivery_mutex_
    std::unique_ptr<Drive> drive_;  // last: started after everything it uses
};

}  // namespace dhtalk
