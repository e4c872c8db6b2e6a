#pragma once
// PresenceChannel: users' presence, delivered within seconds to the nodes
// that have a local user watching (docs/presence.md). A passive core, like
// Swim: it is given datagrams, the time and what local users do, and returns
// datagrams to send and presence to deliver to local watchers.
//
// The node hosting a user's session authors the user's presence: versioned
// (strictly increasing) and signed with the node's key. Where a user is
// hosted is kept by the user's directory nodes, the `directory_replicas`
// live members ranked highest by rendezvous hashing of (member, user): the
// host tells them (Locate), a watching node subscribes there (Subscribe) and
// learns the host (Located), and the directory passes the subscription on to
// the host. The host then sends each change only to subscribed nodes, and
// only with the watchers the user's privacy list allows: a blocked user's
// node never receives it. Watching nodes repair losses by anti-entropy
// (Sync, which also renews their subscriptions); a host asked about a user
// it no longer holds answers Gone, and the watching node asks the directory
// again; when a host is declared dead, its users become unavailable for
// their watchers, last-seen kept.
//
// Input is hostile: bounded, versioned decoding; presence must come from the
// host the directory named and carry that host's valid signature, and a
// version not newer than the one held is dropped. Not thread-safe.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "records/record_bodies.h"
#include "node/gossip/swim.h"

namespace dhtalk {

struct Presence {
    std::string user_id;
    std::string show = "unavailable";  // available, away, busy, unavailable
    std::string status;
    int64_t last_seen_ms = 0;  // Unix ms the user was last online (logout, or the host's death)
    uint64_t version = 0;      // strictly increasing per user at its host
    std::string host;          // node id of the hosting node
};

bool valid_show(std::string_view show);

// Signs and checks presence for the channel: the node's RSA key against the
// roster in a node, a cheaper keyed hash in the simulator. Thread-safe.
class PresenceSigner {
public:
    virtual ~PresenceSigner() = default;
    virtual std::string sign(std::string_view data) = 0;
    // Whether member `node_id` signed `data`.
    virtual bool verify(const std::string& node_id, std::string_view data, std::string_view signature) = 0;
};

struct PresenceConfig {
    std::chrono::milliseconds sync_interval{std::chrono::seconds(5)};  // anti-entropy, renewals
    std::chrono::milliseconds lease{std::chrono::seconds(20)};  // unrenewed subscriptions and locations expire
    unsigned directory_replicas = 2;
    size_t max_watched = 10000;           // users watched from this node
    size_t max_watched_per_user = 1000;   // users one local user watches
    size_t max_directory_users = 100000;  // users this node is directory for (locations, subscriptions)
};

struct PresenceDelivery {
    std::string watcher;  // a local user
    Presence presence;
};

inline constexpr size_t kMaxPresenceDatagram = 8192;
inline constexpr size_t kMaxWatchersPerEntry = 100;  // local watchers of one user named in one message
inline constexpr size_t kMaxPresenceStatusBytes = 256;

class PresenceChannel {
public:
    // `signer` must outlive the channel.
    PresenceChannel(std::string self, PresenceConfig config, PresenceSigner& signer);

    // The live members (alive or suspect), from the membership protocol.
    void set_members(const std::vector<std::string>& live, SteadyTime now);
    // A member was declared dead: the users it hosted become unavailable.
    void member_dead(const std::string& node, int64_t wall_ms);

    // Local users.
    void login(const std::string& user, SteadyTime now, int64_t wall_ms);
    void logout(const std::string& user, SteadyTime now, int64_t wall_ms);
    // Every local user at once (the node is stopping).
    void logout_all(SteadyTime now, int64_t wall_ms);
    // kInvalidArgument for an unknown show or a status too long; kNotFound
    // for a user not logged in here.
    Status set(const std::string& user, const std::string& show, const std::string& status, SteadyTime now,
               int64_t wall_ms);
    // The user's privacy list, as its client gives it on every login: until
    // then (and after every login that follows a logout) the user's presence
    // goes to nobody.
    void set_privacy(const std::string& user, PrivacyList list, SteadyTime now);
    // Watches are held: a watcher's sessions and its one-off gets each hold
    // a watch of a target, which lasts until every hold is released. The
    // first hold subscribes; kResourceExhausted past max_watched, or past
    // max_watched_per_user for this watcher.
    Status watch(const std::string& watcher, const std::string& target, SteadyTime now);
    // Releases one hold.
    void unwatch(const std::string& watcher, const std::string& target);
    // Releases every hold of the watcher's.
    void unwatch_all(const std::string& watcher);
    bool watching(const std::string& watcher, const std::string& target) const;

    // The latest presence of `user` that `watcher` (a local user) may see:
    // a local user's if its privacy list allows the watcher, a watched
    // user's if the host delivered that version to this watcher.
    std::optional<Presence> presence_for(const std::string& watcher, const std::string& user) const;

    // A datagram from member `from`. kCorruption / kPermissionDenied when refused.
    Status on_datagram(const std::string& from, std::string_view bytes, SteadyTime now);
    SteadyTime tick(SteadyTime now);

    std::vector<SwimDatagram> take_outgoing();
    std::vector<PresenceDelivery> take_deliveries();

    struct Counters {
        uint64_t presence_sent = 0;
        uint64_t presence_received = 0;
        uint64_t refused = 0;
    };
    const Counters& counters() const { return counters_; }

private:
    enum class Kind : uint8_t { kLocate = 1, kSubscribe = 2, kLocated = 3, kPresence = 4, kSync = 5, kGone = 6 };
    struct Local {
        Presence presence;
        PrivacyList privacy;
        bool privacy_known = false;  // given since the user came online
        bool online = false;
        SteadyTime retain_until{};  // after logout, kept for anti-entropy
        // The presence encoded and signed, for `signed_version`: signed once
        // however many nodes it goes to.
        uint64_t signed_version = 0;
        std::string signed_bytes, signature;
    };
    struct Lease {
        std::set<std::string> watchers;
        SteadyTime until{};
    };
    struct Location {
        std::string host;
        uint64_t version = 0;
        SteadyTime until{};
    };
    struct Watched {
        std::map<std::string, unsigned> watchers;  // local users -> the holds of their watch
        std::string host;                // as the directory named it; empty: unknown
        std::optional<Presence> latest;
        std::map<std::string, uint64_t> seen;  // watcher -> the version delivered to it
    };

    std::vector<std::string> directory(const std::string& user) const;
    void send(const std::string& to, const std::string& bytes);
    void send_presence(const std::string& user, const std::string& node, const std::set<std::string>& watchers);
    void publish(const std::string& user);
    void locate(const std::string& user);
    void subscribe(const std::string& target);
    void sync_hosts();
    std::vector<std::string> allowed(const Local& l, const std::set<std::string>& watchers) const;
    void deliver(Watched& w, const std::set<std::string>& to);
    Status handle(const std::string& from, std::string_view bytes, SteadyTime now);
    void drain_self(SteadyTime now);
    bool is_member(const std::string& node) const;
    bool in_directory(const std::string& user) const;  // this node is one of the user's directory
    void forget_watcher(Watched& w, const std::string& watcher);
    static uint64_t held_by_all(const Watched& w);  // the version to name in a Sync

    std::string self_;
    PresenceConfig config_;
    PresenceSigner& signer_;
    std::vector<std::string> members_;  // live, self included
    std::map<std::string, Local> local_;
    std::map<std::string, std::map<std::string, Lease>> subscribers_;       // as host: user -> node -> lease
    std::map<std::string, Location> locations_;                               // as directory
    std::map<std::string, std::map<std::string, Lease>> directory_subs_;     // as directory: user -> node -> lease
    std::map<std::string, Watched> watched_;                                   // as watcher
    std::map<std::string, size_t> watching_;  // local watcher -> how many users it watches
    SteadyTime next_sync_{};
    bool started_ = false;
    std::vector<SwimDatagram> outgoing_;
    std::vector<std::string> to_self_;
    std::vector<PresenceDelivery> deliveries_;
    Counters counters_;
};

}  // namespace dhtalk
