#pragma once
// TrustedNetwork: this node's part in the network of trusted nodes
// (docs/trust.md). It founds a network (genesis) or applies to join one,
// keeps the roster chain in the store, serves and relays the network's
// documents (peer_service.h, courier.h), casts this node's votes, assembles
// the next epoch when a change has its approvals, and catches up from other
// members. The Node asks it for the epoch key that seals the overlay.
//
// The node's PeerService calls in as its PeerHandler (stop the service before
// destroying this). Thread-safety: the peer service calls in from its
// threads, the catch-up worker from its own, and the owner from its own; one
// mutex guards the roster_vote state. The adoption callback runs with no
// lock held, on any of these threads.

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>

#include <json/json.h>

#include "common/clock.h"
#include "common/rng.h"
#include "common/worker.h"
#include "crypto/node_identity.h"
#include "net/sealed_socket.h"
#include "node/trust/courier.h"
#include "node/trust/member_updates.h"
#include "node/trust/roster_vote.h"
#include "node/trust/peer_service.h"
#include "node/trust/roster_store.h"

namespace dhtalk {

struct TrustConfig {
    bool genesis = false;         // found a new network
    NetworkSettings settings;     // for the genesis
    bool apply = false;           // apply to join through `bootstrap`
    std::string contact;          // this node's operator contact
    std::vector<std::string> bootstrap;  // HOST:PORT of members
    std::string endpoint;         // HOST:PORT others reach this node at
    // Where clients reach this node's front end (when known at start: a
    // port the system picks is known later, see advertise()) and the space
    // it offers for media.
    MemberAdvert advert;
    std::chrono::milliseconds interval{std::chrono::seconds(3)};  // catch-up and re-application period
    // A rival of the current epoch (the same change, assembled by another
    // approver at the same moment) replaces it only this long after this
    // node adopted it; later the epoch is settled, so no approver can grind
    // a new one after the fact. A rival the network built on still wins.
    std::chrono::milliseconds rival_window{std::chrono::seconds(30)};
    // The relay of the N² design: every node sends every new document to
    // every member. Off, a document's author sends it to every member and
    // each node that takes it anew passes it on to a few random members
    // (gossip_fanout()). On only to compare the two (bench/epoch_bench).
    bool relay_to_all = false;
};

// How many random members a node passes a new document on to, among `peers`
// other members: log2 of the network plus two (each node is then missed by
// every relay with probability about e^-fanout), at most all of them.
size_t gossip_fanout(size_t peers);

// Pending applications held per origin (the address an application first
// came from; IPv6 by /64): one party cannot fill the pending set.
inline constexpr size_t kMaxApplicationsPerOrigin = 4;

class TrustedNetwork final : public PeerHandler {
public:
    enum class Standing { kMember, kApplicant, kBanned };

    // Resumes the stored roster, or founds or joins as configured. kNotFound
    // when there is no roster and neither genesis nor apply was asked for.
    // `store`, `identity`, `clock`, `drivers` (the courier's and catch-up's
    // turns) and `net` (the way to other members) must outlive it; `seed`
    // picks the members documents are passed on to.
    static Result<std::unique_ptr<TrustedNetwork>> open(const TrustConfig& config, Store& store,
                                                        const crypto::NodeIdentity& identity, const Clock& clock,
                                                        Drivers& drivers, PeerNet& net, uint64_t seed);
    ~TrustedNetwork() override;

    // Called after each adopted epoch, with no lock held.
    void on_adopted(std::function<void()> callback) { on_adopted_ = std::move(callback); }

    Standing standing() const;
    uint32_t network_id() const;
    uint64_t epoch() const;
    size_t member_count() const;
    size_t pending_count() const;
    std::string network_name() const;
    // The current epoch key, for a member.
    std::optional<EpochKey> epoch_key() const;
    // The members of the current epoch.
    std::vector<Member> members() const;
    // DHT endpoints of the other members.
    std::vector<std::string> peer_endpoints() const;

    // This node's advert from now on: an application carries it, and a
    // member whose roster entry says otherwise signs a member update and
    // sends it to every member (member_updates.h).
    void advertise(MemberAdvert advert);
    // Every current member's advert, as of its newest update.
    std::map<std::string, MemberAdvert> adverts() const;
    // The member updates held, encoded, for clients to check themselves.
    std::vector<std::string> member_updates() const;

    // Periodic work, from the owner's thread: re-apply, assemble, and start
    // a catch-up. Never waits on the network: the catch-up asks a member
    // on a worker of its own and adopts what it brings from there. Returns
    // when it is next due.
    SteadyTime tick();
    // Ends the catch-up (waiting for the request in flight, at most one
    // page): after this an epoch is adopted only through the peer service
    // or an operator's vote.
    void stop();

    // The admin interface: open proposals as JSON, and this node's votes.
    Json::Value pending_json() const;
    Status vote(ChangeKind change, const std::string& subject, Decision decision, std::string reason);

    // PeerHandler
    Status on_application(std::string_view doc, const PeerRequest& from) override;
    Status on_ballot(std::string_view doc) override;
    Status on_epoch(std::string_view doc) override;
    Status on_member_update(std::string_view doc) override;
    std::vector<std::string> epochs_from(uint64_t from, size_t max) override;

private:
    TrustedNetwork(const TrustConfig& config, Store& store, const crypto::NodeIdentity& identity, const Clock& clock,
                   Drivers& drivers, PeerNet& net, uint64_t seed, RosterVote roster_vote);
    Status adopt(const RosterEpoch& next);          // mutex_ held
    void adopted(const RosterEpoch& prev);          // mutex_ held: the current epoch changed from `prev`
    void assemble_if_due(bool any_member);          // mutex_ held
    // mutex_ held: a document of this node's own to every other member, and
    // one from someone else passed on to a few (or all, if relay_to_all).
    void send_to_members(const std::string& path, const std::string& doc, const std::string& origin = {});
    void pass_on(const std::string& path, const std::string& doc, const std::string& origin = {});
    void forget_gone_applications();  // mutex_ held: store and origins follow the pending set
    // mutex_ held: signs and sends this node's member update if its
    // endpoints changed; else sends the one it holds to the members not in
    // `prev` (every other member when there is no `prev`: a start).
    void publish_own_update(const RosterEpoch* prev);
    std::string origin_of(const PeerRequest& from) const;  // mutex_ held
    Status apply_now();
    void start_catch_up();
    void catch_up();  // on catch_up_worker_
    // `source` holds a branch that parted from ours (RosterVote::offer_branch):
    // take it if it wins. On catch_up_worker_.
    void take_branch(const std::string& source);
    Result<RosterEpoch> own_epoch(uint64_t epoch) const;  // mutex_ held: this node's, from its store
    void notify_if_adopted();

    TrustConfig config_;
    RosterStore roster_store_;
    const crypto::NodeIdentity& identity_;
    const Clock& clock_;
    mutable std::mutex mutex_;
    RosterVote roster_vote_;  // guarded by mutex_
    MemberUpdates member_updates_;  // guarded by mutex_
    MemberAdvert advert_;  // guarded by mutex_: this node's
    std::atomic<bool> adopted_{false};
    std::function<void()> on_adopted_;
    SteadyTime next_work_{};  // guarded by mutex_
    // When this node sends its member update to every member again (one
    // that was down when it was first sent hears it then).
    SteadyTime next_announce_{};  // guarded by mutex_
    static constexpr std::chrono::minutes kAnnounceInterval{10};
    SteadyTime adopted_at_{};  // guarded by mutex_: when the current epoch was adopted here
    // Ballots for epochs this node has not reached yet, replayed on adoption.
    // Ballots for the next epoch held per current member (an honest one
    // casts one approval and a few rejections per epoch).
    static constexpr size_t kMaxFutureBallotsPerVoter = 4;
    std::vector<std::string> future_ballots_;  // guarded by mutex_
    std::optional<SteadyTime> quorum_since_;  // guarded by mutex_
    std::map<std::string, std::string> application_origin_;  // guarded by mutex_: applicant id -> origin
    Rng rng_;                                                  // guarded by mutex_: gossip targets
    PeerNet& net_;
    Courier courier_;
    std::atomic<bool> stopping_{false};     // ends a catch-up between pages
    // Last: stopped first, while everything a catch-up uses still exists.
    Worker catch_up_worker_;
};

const char* standing_name(TrustedNetwork::Standing s);

}  // namespace dhtalk
