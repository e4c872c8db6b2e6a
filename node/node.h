#pragma once
// Node: one running dhtalk storage node, wired from its parts: the data
// directory lock, the node identity, the RocksDB store, the archive of DHT
// values, the OpenDHT overlay and the status server. dhtalk-node's main()
// and the integration tests build it the same way.
//
// Lifecycle: open() -> tick() as often as next_tick() asks -> stop(). tick()
// and stop() are called from the owner's thread only; status() from any
// thread (the HTTP server calls it).

#include <atomic>
#include <filesystem>
#include <memory>
#include <optional>

#include "common/clock.h"
#include "common/files.h"
#include "crypto/node_identity.h"
#include "dht/overlay.h"
#include "dht/value_archive.h"
#include "node/config.h"
#include "node/node_status.h"
#include "node/runtime_info.h"
#include "node/status_server.h"
#include "storage/rocks_store.h"

namespace dhtalk {

// Values our store policy lets through; OpenDHT's own bound, named here
// because the policy is where later record checks are added.
inline constexpr size_t kMaxValueBytes = 64 * 1024;

class Node {
public:
    // Opens everything and joins the overlay. `clock` must outlive the node.
    static Result<std::unique_ptr<Node>> open(const NodeConfig& config, const Clock& clock);
    ~Node();

    // Does what is due (value snapshots); returns when to be called next.
    SteadyTime tick();
    // Snapshots values, leaves the overlay, closes the database.
    Status stop();

    NodeStatus status();
    const RuntimeInfo& runtime() const { return runtime_; }
    Overlay& overlay() { return *overlay_; }
    // Writes a snapshot of the stored values now.
    Status snapshot();

private:
    struct PolicyCounters {
        std::atomic<uint64_t> accepted{0};
        std::atomic<uint64_t> refused{0};
    };

    Node(const NodeConfig& config, const Clock& clock, FileLock lock);
    void register_value_policy();

    NodeConfig config_;
    const Clock& clock_;
    SteadyTime started_;
    SteadyTime next_snapshot_;
    RuntimeInfo runtime_;
    std::atomic<uint64_t> snapshots_{0};
    std::atomic<uint64_t> snapshot_failures_{0};
    std::shared_ptr<PolicyCounters> policy_ = std::make_shared<PolicyCounters>();
    bool stopped_ = false;

    // Destroyed bottom-up: the status server and overlay go first, the
    // data directory lock is released only after everything else is closed.
    FileLock lock_;
    crypto::NodeIdentity identity_;
    std::unique_ptr<RocksStore> store_;
    std::unique_ptr<ValueArchive> archive_;
    std::unique_ptr<Overlay> overlay_;
    std::unique_ptr<StatusServer> http_;
};

}  // namespace dhtalk
