#pragma once
// Node: one running dhtalk storage node, wired from its parts: the data
// directory lock, the node identity, the RocksDB store, the archive of DHT
// values, the trusted network (roster, votes, peer service), the OpenDHT
// overlay (sealed with the epoch key unless --open) with the record types
// and their validator, membership and presence on the overlay's socket, the
// client front end (TLS sessions, registration, records, presence) and the
// status server. dhtalk-node's main() and the integration tests build it the
// same way. Without a roster (a plain --open network) there is no membership
// or presence, and only this node's own users' certificates are accepted.
//
// A member joins the overlay at once; an applicant serves the peer protocol
// and joins the overlay when an epoch admits it. Without any roster and with
// --open, the node runs the plain network named by --network (no votes).
//
// Lifecycle: open() -> tick() when it asks, or sooner when the environment's
// wake() is called -> stop(). tick() and stop() are called from the owner's
// thread only; status(), post() and the admin interface from any thread.

#include <atomic>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>

#include "common/clock.h"
#include "common/files.h"
#include "common/worker.h"
#include "crypto/node_identity.h"
#include "dht/issuance_ledger.h"
#include "dht/overlay.h"
#include "dht/value_archive.h"
#include "dht/record_validator.h"
#include "node/admin_secret.h"
#include "node/front/client_server.h"
#include "node/front/audit_service.h"
#include "node/front/client_service.h"
#include "node/config.h"
#include "node/trust/member_directory.h"
#include "node/node_status.h"
#include "node/gossip/gossip_service.h"
#include "node/trust/peer_service.h"
#include "node/runtime_info.h"
#include "node/status_server.h"
#include "node/trust/trusted_network.h"
#include "node/front/user_records.h"
#include "node/node_env.h"
#include "storage/store.h"

namespace dhtalk {

// How long the front end's TLS certificate is valid; the node renews it
// halfway, so a node that runs for months never presents an expired one.
inline constexpr std::chrono::hours kTlsCertificateValidity{24 * 30};

class Node final : public AdminHandler {
public:
    // Opens everything with the parts `env` gives (node/node_env.h); a member
    // also joins the overlay. The clock in `env` must outlive the node.
    static Result<std::unique_ptr<Node>> open(const NodeConfig& config, const NodeEnv& env);
    ~Node() override;

    // Runs what was posted, then does what is due (roster work, the gossip
    // service's turns, the load it reports; a snapshot is handed to its
    // worker; the TLS certificate renewed); returns when to be called next.
    SteadyTime tick();
    // Runs `task` on the owner's thread in the next tick(), and asks for one
    // through the environment's wake(). From any thread; dropped after stop().
    void post(std::function<void()> task);
    // Snapshots values, leaves the overlay, closes the database.
    Status stop();

    NodeStatus status();
    RuntimeInfo runtime() const;
    // The overlay; null while this node waits for admission.
    Overlay* overlay() { return live_overlay_.load(); }
    // The client front end's port (0 if it is not running).
    uint16_t client_port() const { return client_server_ ? client_server_->port() : 0; }
    TrustedNetwork* trust() { return trust_.get(); }
    // Every other member as this node's membership protocol sees it (empty
    // before it runs). Any thread.
    std::vector<MemberView> membership() const;
    // Writes a snapshot of the stored values now (one at a time; any thread).
    Status snapshot();

    // AdminHandler
    Result<Json::Value> admin_pending() override;
    Status admin_vote(const Json::Value& request) override;
    // The issuance audit over every member's ledger: the last `days` days.
    Result<Json::Value> admin_audit(uint32_t days) override;

private:
    Node(const NodeConfig& config, const NodeEnv& env, FileLock lock);
    Status start_overlay();
    void on_roster_change();
    // The certificates of the current members (this node alone without a roster).
    MemberDirectory::Members member_keys() const;
    // The front end's TLS certificate, made now for kTlsCertificateValidity,
    // and when to renew it (tls_renew_at_: halfway).
    Result<std::shared_ptr<crypto::TlsCredentials>> make_tls_credentials();
    Status start_clients();
    Status start_media();  // from start_clients(): the front end's media.put and media.get
    // The roster's members and their endpoints, for the membership protocol.
    std::map<std::string, std::vector<std::string>> member_endpoints() const;
    // The other members' load and client endpoints, for the client front end.
    std::vector<MemberRoom> member_rooms() const;
    void start_gossip();
    Status write_runtime();
    // The trusted network's, or the plain network's named by --network.
    uint32_t network_id() const;
    std::string network_name() const;

    NodeConfig config_;
    NodeEnv env_;
    const Clock& clock_;
    SteadyTime started_;
    // The owner's loop: the parts that block on nothing (the gossip service)
    // take their turns in tick(); blocking work runs on env_.drivers.
    std::shared_ptr<OwnerDrivers> loop_;
    SteadyTime next_snapshot_;
    uint16_t port_ = 0;  // the DHT's UDP port number, also the peer service's TCP port
    std::vector<dht::ValuesExport> restored_;  // held until the overlay starts
    std::mutex posted_mutex_;
    std::vector<std::function<void()>> posted_;  // guarded by posted_mutex_
    bool accepting_posts_ = true;                 // guarded by posted_mutex_; false from stop() on
    // overlay_ once started, for readers on other threads (status()).
    std::atomic<Overlay*> live_overlay_{nullptr};
    std::atomic<uint64_t> snapshots_{0};
    std::atomic<uint64_t> snapshot_failures_{0};
    std::shared_ptr<PolicyCounters> policy_ = std::make_shared<PolicyCounters>();
    std::shared_ptr<PolicyCounters> record_policy_ = std::make_shared<PolicyCounters>();
    std::shared_ptr<MemberDirectory> members_ = std::make_shared<MemberDirectory>();
    std::shared_ptr<const RecordValidator> validator_;
    bool banned_logged_ = false;
    bool stopped_ = false;
    mutable std::mutex runtime_mutex_;
    RuntimeInfo runtime_;  // guarded by runtime_mutex_

    // Destroyed bottom-up: servers and overlay first, the data directory
    // lock last, after everything else is closed.
    FileLock lock_;
    crypto::NodeIdentity identity_;
    std::unique_ptr<Store> store_;
    std::unique_ptr<ValueArchive> archive_;
    std::mutex snapshot_mutex_;  // one snapshot at a time: it guards archive_'s writes
    std::unique_ptr<Worker> snapshot_worker_;  // the periodic snapshots, off the loop
    std::unique_ptr<TrustedNetwork> trust_;
    std::unique_ptr<PeerService> peers_;
    std::unique_ptr<UserRecords> user_records_;
    std::unique_ptr<IssuanceLedger> issuance_ledger_;  // fed by the overlay's store policy
    std::unique_ptr<AuditService> audit_;
    std::unique_ptr<MediaService> media_;  // after clients_ and before peers_ in stop(): both call in
    uint32_t ledger_day_ = 0;  // owner loop only: the last day the ledger's old days were forgotten
    std::unique_ptr<GossipService> gossip_;
    std::unique_ptr<Overlay> overlay_;
    std::unique_ptr<ClientService> clients_;
    std::unique_ptr<ClientFront> client_server_;
    WallTime tls_renew_at_{};  // owner loop only
    std::unique_ptr<StatusServer> http_;
};

}  // namespace dhtalk
