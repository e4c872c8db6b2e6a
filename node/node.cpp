#include "node/node.h"

#include <unistd.h>

#include <opendht/value.h>

#include "common/log.h"
#include "crypto/network_id.h"
#include "dhtalk_version.h"

namespace dhtalk {

using namespace std::chrono;

Result<std::unique_ptr<Node>> Node::open(const NodeConfig& config, const Clock& clock) {
    DHTALK_TRY(ensure_private_dir(config.data_dir));
    auto lock = FileLock::acquire(config.data_dir / "node.lock");
    if (!lock) return lock.status();
    std::unique_ptr<Node> node(new Node(config, clock, std::move(lock).value()));

    auto identity = crypto::load_or_create_identity(config.data_dir / "identity");
    if (!identity) return identity.status();
    node->identity_ = std::move(identity).value();

    auto store = RocksStore::open(config.data_dir / "db");
    if (!store) return store.status();
    node->store_ = std::move(store).value();

    node->archive_ = std::make_unique<ValueArchive>(*node->store_, clock);
    auto restored = node->archive_->load();
    if (!restored) return restored.status();
    DHTALK_LOG(kInfo, "node", "restored " << restored->value_count << " values under " << restored->keys
                                           << " keys from the database"
                                           << (restored->skipped_records
                                                   ? " (skipped " + std::to_string(restored->skipped_records) +
                                                         " damaged records)"
                                                   : std::string()));

    OverlayConfig oc;
    oc.bind_address = config.bind;
    oc.port = config.dht_port;
    oc.network_id = crypto::network_id_from_name(config.network);
    oc.node_id = node->identity_.node_id();
    oc.bootstrap = config.bootstrap;
    oc.max_store_bytes = config.max_store_mb << 20;
    auto overlay = Overlay::start(oc, restored->values);
    if (!overlay) return overlay.status();
    node->overlay_ = std::move(overlay).value();
    node->register_value_policy();

    Node* self = node.get();
    auto http = StatusServer::start(config.http_bind, config.http_port, [self] { return self->status(); });
    if (!http) return http.status();
    node->http_ = std::move(http).value();

    auto& rt = node->runtime_;
    rt.node_id = node->identity_.node_id_hex();
    rt.network_id = node->overlay_->network_id();
    rt.network = config.network;
    rt.pid = ::getpid();
    rt.dht_port_ipv4 = node->overlay_->port_ipv4();
    rt.dht_port_ipv6 = node->overlay_->port_ipv6();
    rt.http_address = config.http_bind;
    rt.http_port = node->http_->port();
    rt.version = DHTALK_VERSION;
    DHTALK_TRY(write_runtime_info(config.data_dir, rt));
    DHTALK_LOG(kInfo, "node", "node " << rt.node_id << " of network '" << rt.network << "' (id " << rt.network_id
                                       << ") up: DHT on UDP " << rt.dht_port_ipv4 << " (IPv4) " << rt.dht_port_ipv6
                                       << " (IPv6), status on http://" << rt.http_address << ":" << rt.http_port
                                       << "/status");
    return node;
}

Node::Node(const NodeConfig& config, const Clock& clock, FileLock lock)
    : config_(config),
      clock_(clock),
      started_(clock.now()),
      next_snapshot_(started_ + config.persist_interval),
      lock_(std::move(lock)) {}

Node::~Node() {
    if (!stopped_) stop().ignore_error();  // an early exit: best effort, already logged
}

void Node::register_value_policy() {
    // The policy for OpenDHT's default value type, the only one in use so far.
    // OpenDHT consults it for values that peers store here (not for the
    // node's own puts), before SecureDht's signature check for signed ones.
    dht::ValueType type = dht::ValueType::USER_DATA;
    auto counters = policy_;
    type.storePolicy = [counters](dht::InfoHash, std::shared_ptr<dht::Value>& v, const dht::InfoHash&,
                                  const dht::SockAddr&) {
        const bool ok = v && v->size() <= kMaxValueBytes;
        (ok ? counters->accepted : counters->refused)++;
        return ok;
    };
    // A value, once stored, is not replaced by a different one with the same
    // id (OpenDHT's own rule for this type); later record types allow signed
    // edits with a higher sequence number.
    type.editPolicy = [counters](dht::InfoHash, const std::shared_ptr<dht::Value>&, std::shared_ptr<dht::Value>&,
                                 const dht::InfoHash&, const dht::SockAddr&) {
        counters->refused++;
        return false;
    };
    overlay_->runner().registerType(type);
}

Status Node::snapshot() {
    auto saved = archive_->save(overlay_->export_values());
    if (!saved) {
        snapshot_failures_++;
        DHTALK_LOG(kError, "node", "value snapshot failed: " << saved.status().to_string());
        return saved.status();
    }
    snapshots_++;
    if (saved->keys_written || saved->keys_erased)
        DHTALK_LOG(kDebug, "node", "snapshot: " << saved->keys_written << " keys written, " << saved->keys_erased
                                                 << " erased");
    return Status::ok();
}

SteadyTime Node::tick() {
    const auto now = clock_.now();
    if (now >= next_snapshot_) {
        snapshot().ignore_error();  // logged and counted; the next interval tries again
        next_snapshot_ = now + config_.persist_interval;
    }
    return next_snapshot_;
}

Status Node::stop() {
    if (stopped_) return Status::ok();
    stopped_ = true;
    if (http_) http_->stop();
    Status result;
    if (overlay_) {
        // Snapshot while OpenDHT still holds the values: join() discards them.
        Status s = snapshot();
        if (!s) result = s;
        Status left = overlay_->stop(seconds(5));
        if (!left) DHTALK_LOG(kWarning, "node", left.to_string());
    }
    if (store_) {
        Status s = store_->sync();
        if (!s && result) result = s;
    }
    overlay_.reset();
    http_.reset();
    store_.reset();
    remove_runtime_info(config_.data_dir);
    DHTALK_LOG(kInfo, "node", "stopped");
    return result;
}

NodeStatus Node::status() {
    NodeStatus s;
    s.node_id = identity_.node_id_hex();
    s.network_id = overlay_->network_id();
    s.network = config_.network;
    s.version = DHTALK_VERSION;
    s.uptime_s = static_cast<uint64_t>(duration_cast<seconds>(clock_.now() - started_).count());
    const auto o = overlay_->stats();
    s.peers_ipv4 = o.peers_ipv4;
    s.peers_ipv6 = o.peers_ipv6;
    s.values_stored = o.values_stored;
    s.bytes_stored = o.bytes_stored;
    s.requests_in = o.requests_in;
    s.requests_out = o.requests_out;
    s.datagrams_in = o.datagrams_in;
    s.datagrams_out = o.datagrams_out;
    s.bytes_in = o.bytes_in;
    s.bytes_out = o.bytes_out;
    s.values_accepted = policy_->accepted;
    s.values_refused = policy_->refused;
    s.snapshots = snapshots_;
    s.snapshot_failures = snapshot_failures_;
    return s;
}

}  // namespace dhtalk
