#pragma once
// Swim: liveness of the member nodes, by SWIM-style probing with Lifeguard's
// refinements (docs/presence.md). A passive core: it is given the members,
// datagrams and the time, and returns the datagrams to send, the changes it
// saw, and when to be called next. It owns no socket, thread or clock; the
// node feeds it from the sealed transport and the simulator from its
// network, with the same code.
//
// Each protocol period the node probes one member (round-robin over a
// shuffled order): a direct ping, then, without an ack within the probe
// timeout, ping-req through k other members. A member that answers neither
// by the end of the period is suspected; suspicion spreads by piggybacking
// and ends in "dead" after a timeout that shrinks as independent members
// confirm it (Lifeguard); the suspect refutes it by raising its incarnation.
// Local health (Lifeguard's LHM) stretches this node's timeouts when it
// misses acks itself, so a slow node does not accuse others. Every message
// carries the sender's load (sessions, capacity).
//
// Input is hostile: decoding is bounded and versioned, and only members of
// the current roster are heard. Not thread-safe: one owner.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/rng.h"
#include "common/status.h"

namespace dhtalk {

struct SwimConfig {
    std::chrono::milliseconds period{1000};        // protocol period T
    std::chrono::milliseconds probe_timeout{400};  // wait for a direct ack before asking others
    unsigned indirect_probes = 3;                   // k members asked to probe for us
    double suspicion_alpha = 4;  // Lifeguard: the shortest suspicion is alpha * log10(n) * T
    double suspicion_beta = 6;   // and the longest beta times that
    unsigned suspicion_confirmations = 3;  // independent suspicions that bring it to the shortest
    unsigned max_health = 8;     // local health multiplier's ceiling
    double retransmit_mult = 4;  // each update is piggybacked mult * log10(n + 1) times (at least 3)
    size_t max_piggyback = 8;    // updates per message
};

enum class MemberState : uint8_t { kAlive = 0, kSuspect = 1, kDead = 2 };
const char* member_state_name(MemberState s);

struct MemberView {
    std::string id;
    MemberState state = MemberState::kAlive;
    uint64_t incarnation = 0;
    uint32_t sessions = 0;
    uint32_t capacity = 0;
};

struct SwimDatagram {
    std::string to;  // member id
    std::string bytes;
};

struct SwimEvent {
    std::string id;
    MemberState state;
    SteadyTime at;
};

inline constexpr size_t kMaxSwimDatagram = 1400;  // fits one unfragmented UDP datagram
// How far ahead of this node's clock an incarnation may be. Incarnations are
// start times in ms (and refutations add one), so an honest one is never far
// ahead; a bound keeps a forged one from pushing a member to 2^64-1, where
// it could never refute again.
inline constexpr std::chrono::milliseconds kIncarnationSkew{std::chrono::minutes(5)};

class Swim {
public:
    // `incarnation` must grow across restarts of the same node, so that a
    // node declared dead can come back: the node passes its start time in
    // ms since 1970, the simulator its start in ms of virtual time. Others'
    // incarnations are heard only up to this one plus the time since this
    // node started plus kIncarnationSkew.
    Swim(std::string self, SwimConfig config, uint64_t seed, uint64_t incarnation = 0);

    // The members of the current roster (self included or not). New ones
    // start alive; ones no longer listed are forgotten.
    void set_members(const std::vector<std::string>& ids, SteadyTime now);
    void set_load(uint32_t sessions, uint32_t capacity);

    // A datagram that the transport says came from member `sender` (the
    // member at its source address). kCorruption or kPermissionDenied for
    // one that is malformed, not from a member, speaks for another member
    // than its sender, or claims a sender incarnation beyond the bound;
    // nothing changes then. Updates beyond the bound are skipped one by one.
    Status on_datagram(const std::string& sender, std::string_view bytes, SteadyTime now);
    // Does what is due; returns when to be called next.
    SteadyTime tick(SteadyTime now);

    std::vector<SwimDatagram> take_outgoing();
    std::vector<SwimEvent> take_events();

    std::vector<MemberView> members() const;
    // The other members not declared dead.
    std::vector<std::string> live_members() const { return live_others(self_); }
    std::optional<MemberView> member(const std::string& id) const;
    uint64_t incarnation() const { return incarnation_; }
    unsigned health() const { return health_; }
    // The time from a member's failure to its "dead" here that this
    // configuration promises at the current size and health: two periods to
    // be probed by someone, log2(n) periods for the news to spread, and the
    // longest suspicion (one accuser).
    std::chrono::milliseconds detection_bound() const;

private:
    struct Member {
        MemberState state = MemberState::kAlive;
        uint64_t incarnation = 0;
        uint32_t sessions = 0, capacity = 0;
        SteadyTime suspected_at{};
        std::set<std::string> accusers;
    };
    struct Update {
        std::string id;
        MemberState state;
        uint64_t incarnation;
        std::string accuser;  // suspect updates: who suspects
        unsigned sent = 0;
    };
    struct Probe {
        std::string target;
        uint64_t seq = 0;
        SteadyTime direct_deadline{};
        bool indirect_sent = false;
        bool acked = false;
        bool nacked = false;
    };
    struct Relay {
        std::string requester;
        uint64_t requester_seq;
        SteadyTime nack_at;
        bool nack_sent = false;
    };

    enum class Kind : uint8_t { kPing = 1, kPingReq = 2, kAck = 3, kNack = 4 };
    void send(const std::string& to, Kind kind, uint64_t seq, const std::string& target);
    void apply(const Update& u, SteadyTime now);
    void set_state(const std::string& id, Member& m, MemberState s, uint64_t inc, SteadyTime now);
    void broadcast(Update u);
    void start_probe(SteadyTime now);
    void end_probe(SteadyTime now);
    std::chrono::milliseconds suspicion_timeout(const Member& m) const;
    std::chrono::milliseconds scaled(std::chrono::milliseconds d) const { return d * (health_ + 1); }
    void raise_health() { health_ = std::min(health_ + 1, config_.max_health); }
    void lower_health() { health_ = health_ ? health_ - 1 : 0; }
    unsigned retransmit_limit() const;
    std::vector<std::string> live_others(const std::string& except) const;
    void shuffle(std::vector<std::string>& ids);  // Fisher-Yates with rng_
    uint64_t incarnation_ceiling(SteadyTime now);  // the highest incarnation heard now

    std::string self_;
    SwimConfig config_;
    Rng rng_;
    uint64_t incarnation_ = 0;
    uint64_t first_incarnation_ = 0;
    std::optional<SteadyTime> origin_;  // when this node first saw the time
    uint32_t sessions_ = 0, capacity_ = 0;
    unsigned health_ = 0;
    uint64_t next_seq_ = 1;
    std::map<std::string, Member> members_;  // without self
    std::set<std::string> suspects_;         // members_ in kSuspect: the timers tick() watches
    std::vector<std::string> order_;         // probe order
    size_t next_in_order_ = 0;
    std::optional<Probe> probe_;
    SteadyTime next_period_{};
    bool started_ = false;
    std::map<uint64_t, Relay> relays_;  // our seq -> the ping-req we serve
    std::vector<Update> broadcasts_;
    std::vector<SwimDatagram> outgoing_;
    std::vector<SwimEvent> events_;
};

}  // namespace dhtalk
