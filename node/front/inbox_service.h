#pragma once
// InboxService: a node's part in the inboxes (docs/messaging.md).
//   - For a sender logged in here, it has each message held by the
//     recipient's inbox holders (dht/placement.h) and says "stored" once
//     kInboxHolders of them (every member, in a smaller network) have it on
//     disk. A holder that is down or cannot be reached is passed over for
//     the next member in the inbox's order.
//   - For a recipient logged in here, it fetches the messages from the
//     holders, and passes on what the client acknowledges to each of them.
//   - As a holder, it keeps messages (dht/inbox_store.h), answers other
//     members' requests (inbox_messages.h), and drops what expires.
//   - Repair: after the live members change, each node hands what it holds
//     to the holders the recipients have now (inbox_repair.cpp).
//   - Push: while a recipient has a session here that follows its inbox,
//     this node registers with the recipient's holders (follow, a lease it
//     renews), and each holder passes every new message for the recipient
//     on to it (deliver), which hands it to the sessions. Both holders pass
//     it on; this node hands each message over once. A node's follows go
//     to each holder in one request (up to kMaxInboxBatch inboxes).
// Requests to other members run on workers of its own, so callers never
// wait on the network; `done` runs there (or at once for what needs no
// other member). Messages to send wait in one queue, and each of several
// send workers (InboxConfig::senders) has up to a batch at a time held: the
// messages for one member in one request, synced once (inbox_send.cpp).
// Pass-ons run on push workers (InboxConfig::pushers) and follows on
// follow workers (InboxConfig::followers), one member at a time each, so
// that a message passed on waits neither for a renewal nor for a fetch. Fetches and
// acknowledgements run on fetch workers (InboxConfig::fetchers), each
// recipient's on one of them, in the order asked: a node's users fetch
// every minute, each fetch a round trip to each holder in turn, and one
// worker for them all fell behind at 50 users (docs/simulation.md).
// Thread-safe.

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/drivers.h"
#include "common/recent_set.h"
#include "common/worker.h"
#include "crypto/node_identity.h"
#include "dht/inbox_store.h"
#include "net/peer_net.h"
#include "node/front/inbox_messages.h"
#include "node/front/repair_pacer.h"
#include "node/trust/peer_service.h"

namespace dhtalk {

struct InboxPeer {
    std::string node_id;
    std::string endpoint;  // HOST:PORT of its peer service
    std::string fast_key;  // Ed25519: its requests and answers are signed with it
    bool alive = true;     // not declared dead by the membership protocol
};

struct InboxConfig {
    InboxLimits limits;
    uint32_t network_id = 0;
    std::chrono::seconds ttl{std::chrono::hours(24 * 7)};  // a message not acknowledged by then is dropped
    // A request sent further than this from the holder's clock is refused.
    std::chrono::seconds max_skew{300};
    size_t max_queued = 1024;  // messages waiting to be held, and requests waiting for the worker
    size_t senders = 8;        // workers that have messages held, each a batch at a time
    size_t pushers = 4;        // workers that pass messages on to followers, each a member at a time
    size_t followers = 4;      // workers that register this node's follows, each a holder at a time
    size_t fetchers = 8;       // workers that fetch and acknowledge, each a recipient's at a time
    // How long a holder passes messages on to a node that follows an inbox
    // without hearing from it again; the node renews at a third of it.
    std::chrono::seconds follow_lease{60};
    size_t max_follows = 100000;  // inboxes whose followers this node keeps as a holder
};

class InboxService final : public InboxHandler {
public:
    using Done = std::function<void(Status)>;
    using Fetched = std::function<void(Result<std::vector<InboxMessage>>)>;
    using Deliver = std::function<void(const std::string& recipient, const std::vector<InboxMessage>& messages)>;

    // `identity`, `store`, `clock`, `drivers` and `net` must outlive it.
    InboxService(InboxConfig config, const crypto::NodeIdentity& identity, Store& store, const Clock& clock,
                 Drivers& drivers, PeerNet& net);
    ~InboxService() override { stop(); }

    // Counts the messages held before a restart; call before serving.
    Result<InboxStore::LoadResult> load() { return inbox_.load(); }
    // The current members, this node among them. Unset (or empty), this node
    // holds every inbox itself. Set before the first request.
    void attach_members(std::function<std::vector<InboxPeer>()> members) { members_ = std::move(members); }

    // Has `m` held (its expiry, unless set, is expiry_from_now()): done(ok)
    // once enough holders have it on disk, else why not. A retry of the same
    // message is safe.
    void send(InboxMessage m, Done done);
    // When a message sent now expires: the configured time to live from now.
    int64_t expiry_from_now() const;
    // Up to `max` of `recipient`'s messages from the holders that answer,
    // each once, by sender and then id.
    void fetch(const std::string& recipient, size_t max, Fetched done);
    // Deletes these messages of `recipient`'s at every holder that answers.
    void acknowledge(const std::string& recipient, std::vector<MessageRef> acks, Done done);

    // Push. `deliver` is handed the new messages of a recipient who follows
    // here, each message once; it runs on the worker or a peer thread. Set
    // before serving.
    void attach_delivery(Deliver deliver) { deliver_ = std::move(deliver); }
    // A session here starts or stops following `recipient`'s inbox (counted:
    // the last unfollow ends it). `done` runs once the holders that answer
    // know (at once for a recipient followed here already), so that a fetch
    // after it misses nothing that is not pushed.
    void follow(const std::string& recipient, Done done);
    void unfollow(const std::string& recipient);
    // Renews this node's follows at the holders when due; call often.
    void renew_follows();

    // Drops what has expired here; returns how many.
    size_t expire();
    // The same on the worker, off the caller's thread.
    void expire_later() { static_cast<void>(worker_.post([this] { expire(); })); }  // a full queue: next time
    InboxStore::Usage held() const { return inbox_.total(); }
    // Repair (inbox_repair.cpp): once the live members have stayed the
    // same from one call to the next after a change, hands each message
    // held here to the holders its recipient has now (on the worker); a
    // node that is no holder of an inbox lets go of its copies once they
    // all took them. Call every snapshot interval.
    void repair_later();
    struct RepairResult {
        size_t copies = 0;      // messages the current holders took (new or already held)
        bool complete = true;   // every holder could be asked
    };
    RepairResult repair();
    size_t repaired_copies() const { return repairs_.copies(); }
    // Ends the worker; later requests fail.
    void stop() {
        send_workers_.stop();
        push_workers_.stop();
        follow_workers_.stop();
        fetch_workers_.stop();
        worker_.stop();
    }

    // InboxHandler: a request from another member.
    Result<std::string> on_inbox_request(std::string_view request) override;

private:
    // Up to `max` members in `recipient`'s inbox order that are not declared
    // dead (this node alone when none are attached), and how many must hold
    // a message.
    struct Holders {
        std::vector<InboxPeer> live;
        size_t needed = 1;
    };
    Holders holders_of(const std::string& recipient, size_t max) const;
    // The same among `members`, for work that ranks many recipients (a
    // renewal, a repair pass) and so takes the list once: members_now()
    // builds it anew on each call.
    Holders holders_among(const std::vector<InboxPeer>& members, const std::string& recipient, size_t max) const;
    std::vector<InboxPeer> members_now() const;
    // Asks `peer` and checks its answer; kUnavailable if it could not hear.
    Result<InboxAnswer> ask(const InboxPeer& peer, InboxRequest request);
    // What this node does as a holder: holds each message it may (a bound
    // refuses one, and `refused` gets it), syncs once, and passes the new
    // ones on to their followers; `fresh` gets those. The first refusal, or
    // the sync's failure.
    Status hold_here(const std::vector<InboxMessage>& messages, std::vector<InboxMessage>* fresh,
                     std::vector<InboxMessage>* refused);
    // Sending (inbox_send.cpp): the queue, its flushers on the send workers,
    // and a batch held in rounds at its members.
    struct Outgoing {
        InboxMessage message;
        Done done;
        std::vector<InboxPeer> live;  // its holders in order, then the stand-ins
        size_t needed = 1;
        size_t next = 0;  // the next in `live` to ask
        size_t held = 0;
        Status last = Status::unavailable("no inbox holder of the recipient can be reached");
        bool finished = false;
        void finish(const Status& s) {
            finished = true;
            done(s);
        }
    };
    void flush_outgoing();
    void hold_batch(std::vector<Outgoing>& batch);
    void hold_at(const InboxPeer& peer, const std::vector<Outgoing*>& group);
    // Push: registers this node with the holders of each recipient, one
    // request per holder on the push workers, and runs `done` once each has
    // answered or could not be asked; as a holder, keeps a follower; passes
    // new messages on to the followers; as the followed node, hands them
    // over once.
    void register_follows(const std::vector<std::string>& recipients, std::function<void()> done);
    void follow_at(const InboxPeer& holder, std::vector<std::string> recipients);
    Status add_follower(const std::string& recipient, const std::string& node);
    void pass_on(const std::string& recipient, const std::vector<InboxMessage>& fresh);
    void delivered(const std::string& recipient, const std::vector<InboxMessage>& messages);
    Result<std::vector<InboxMessage>> pending_here(const std::string& recipient, size_t max) const;
    // Queues a fetch or an acknowledgement on `recipient`'s fetch worker.
    bool post_fetch(const std::string& recipient, std::function<void()> job, const std::function<void(Status)>& refused);

    InboxConfig config_;
    const crypto::NodeIdentity& identity_;
    const std::string self_;
    const Clock& clock_;
    PeerNet& net_;
    InboxStore inbox_;
    std::function<std::vector<InboxPeer>()> members_;
    Deliver deliver_;

    std::mutex follow_mutex_;
    std::map<std::string, size_t> following_;  // guarded: recipient -> its sessions here that follow
    std::map<std::string, std::map<std::string, SteadyTime>> followers_;  // guarded: as holder, recipient -> node -> lease end
    // Messages remembered as handed over, so that the second holder's copy is dropped.
    static constexpr size_t kHandedOverMemory = 4096;
    RecentSet<std::string> handed_over_{kHandedOverMemory};  // guarded: RECIPIENT/SENDER/ID
    SteadyTime next_renewal_{};  // guarded
    bool renewing_ = false;      // guarded: a renewal job is queued or running (one at a time)

    RepairPacer repairs_;

    std::mutex send_mutex_;
    std::deque<Outgoing> outgoing_;  // guarded by send_mutex_: messages waiting to be held
    size_t flushers_ = 0;            // guarded by send_mutex_: flush jobs queued or running
    // Last: stopped first, while what their jobs use is whole.
    WorkerPool send_workers_;
    WorkerPool push_workers_;
    WorkerPool follow_workers_;
    WorkerPool fetch_workers_;
    Worker worker_;  // repair and expiry
};

}  // namespace dhtalk
