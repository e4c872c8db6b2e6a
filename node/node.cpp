#include "node/node.h"

#include "dht/issuance_log.h"

#include <unistd.h>

#include <cassert>
#include <set>

#include "common/log.h"
#include "crypto/aead.h"
#include "crypto/network_id.h"
#include "crypto/signing.h"
#include "dht/stock_types.h"
#include "dhtalk_version.h"

namespace dhtalk {

using namespace std::chrono;

namespace {

// What this node tells the members of itself: where clients reach the
// front end on `port` (none while the port is not known: 0, the system
// picks it when the front end starts) and the space it offers for media.
MemberAdvert advert_of(const NodeConfig& c, uint16_t port) {
    MemberAdvert a;
    a.media_offer_mib = c.media_offer_mib;
    if (!c.client_advertise.empty() || port != 0) a.client_endpoints = {client_endpoint(c, port)};
    return a;
}

}  // namespace

Result<std::unique_ptr<Node>> Node::open(const NodeConfig& config, const NodeEnv& env) {
    assert(env.clock && env.open_store && env.make_sms_sender && env.drivers && env.open_datagram_socket &&
           env.peer_net && env.open_client_front && env.random_seed && env.load_identity);
    const Clock& clock = *env.clock;
    DHTALK_TRY(ensure_private_dir(config.data_dir));
    auto lock = FileLock::acquire(config.data_dir / "node.lock");
    if (!lock) return lock.status();
    std::unique_ptr<Node> node(new Node(config, env, std::move(lock).value()));

    auto identity = env.load_identity(config.data_dir / "identity");
    if (!identity) return identity.status();
    node->identity_ = std::move(identity).value();

    auto store = env.open_store(config.data_dir / "db");
    if (!store) return store.status();
    node->store_ = std::move(store).value();

    node->archive_ = std::make_unique<ValueArchive>(*node->store_, clock);
    node->snapshot_worker_ = std::make_unique<Worker>(*env.drivers, "snapshot", 1);
    auto restored = node->archive_->load();
    if (!restored) return restored.status();
    DHTALK_LOG(kInfo, "node", "restored " << restored->value_count << " values under " << restored->keys
                                           << " keys from the database"
                                           << (restored->skipped_records
                                                   ? " (skipped " + std::to_string(restored->skipped_records) +
                                                         " damaged records)"
                                                   : std::string()));
    node->restored_ = std::move(restored->values);

    // The trusted network, unless this is a plain open network. The peer
    // service binds first: its port number is the node's, for the DHT too.
    auto stored_chain = RosterStore(*node->store_).has_chain();
    const bool has_roster = stored_chain && *stored_chain;
    const bool legacy_open = config.open && !config.genesis && !config.apply && !has_roster;
    node->port_ = config.dht_port;
    if (!legacy_open) {
        auto peers = PeerService::start(*env.peer_net, config.bind, config.dht_port, clock);
        if (!peers) return peers.status();
        node->peers_ = std::move(peers).value();
        node->port_ = node->peers_->port();
        TrustConfig tc;
        tc.genesis = config.genesis;
        tc.settings.name = config.network;
        tc.settings.quorum = parse_quorum_rule(config.quorum).value();
        tc.apply = config.apply;
        tc.contact = config.contact;
        tc.bootstrap = config.bootstrap;
        tc.endpoint = advertised_host(config) + ":" + std::to_string(node->port_);
        tc.advert = advert_of(config, config.client_port);
        tc.interval = config.roster_interval;
        auto trust = TrustedNetwork::open(tc, *node->store_, node->identity_, clock, *env.drivers, *env.peer_net,
                                          env.random_seed());
        if (!trust) {
            if (trust.status().code() == Code::kNotFound)
                return Status::invalid("this node belongs to no network yet: found one with --genesis, join one with "
                                       "--apply CONTACT --bootstrap HOST:PORT, or run a plain network with --open");
            return trust.status();
        }
        node->trust_ = std::move(trust).value();
        Node* self = node.get();
        node->trust_->on_adopted([self] {
            self->members_->set(self->member_keys());
            // Seal with the new key at once (SealedSocket is thread-safe):
            // peers that switched first are refused until we do.
            if (Overlay* o = self->live_overlay_.load(); o && o->seals_gossip())
                if (auto key = self->trust_->epoch_key()) o->set_seal_key(*key).ignore_error();
            self->post([self] { self->on_roster_change(); });  // joining, a ban: the owner's work
        });
        node->peers_->attach(node->trust_.get());
    }

    node->members_->set(node->member_keys());
    if (auto listed = node->members_->fast_key(node->identity_.node_id_hex());
        !listed.empty() && listed != node->identity_.fast_public)
        return Status::corruption("identity/fast.key in " + config.data_dir.string() +
                                  " is not the fast key the roster lists for this node (its presence would "
                                  "be refused): restore fast.key from a backup of the identity");
    node->validator_ = std::make_shared<RecordValidator>(
        node->network_id(), [members = node->members_](const std::string& id) { return members->fast_key(id); }, clock);
    node->user_records_ = std::make_unique<UserRecords>(
        *node->store_, RecordQuota{config.max_records_per_user, config.max_record_kib_per_user << 10});
    node->issuance_ledger_ = std::make_unique<IssuanceLedger>(*node->store_);
    DHTALK_TRY(node->issuance_ledger_->load());
    if (node->trust_) {
        GossipServiceConfig pc;
        pc.swim.period = config.swim_period;
        pc.swim.probe_timeout = std::max(config.swim_period * 2 / 5, milliseconds(50));
        pc.swim.indirect_probes = config.swim_indirect_probes;
        pc.swim.suspicion_alpha = config.swim_suspicion_mult;
        pc.presence.sync_interval = config.presence_sync;
        pc.presence.lease = config.presence_sync * 4;
        pc.presence.directory_replicas = config.presence_directory_replicas;
        node->gossip_ = std::make_unique<GossipService>(pc, node->identity_, node->members_,
                                                          static_cast<uint64_t>(to_unix_millis(clock.wall_now())), clock,
                                                          *node->loop_);  // the owner's loop: it blocks on nothing
        // Its first probes tell the others its capacity: a member heard of
        // without one is sent no logins (load_spread.h).
        node->gossip_->set_load(0, static_cast<uint32_t>(config.max_client_sessions));
    }

    if (!node->trust_ || node->trust_->standing() == TrustedNetwork::Standing::kMember) {
        DHTALK_TRY(node->start_overlay());
    } else {
        DHTALK_LOG(kInfo, "node", "waiting for the members of '" << node->trust_->network_name()
                                                                 << "' to admit this node");
    }

    DHTALK_TRY(node->start_clients());
    if (node->overlay_) node->clients_->republish();
    if (node->trust_) node->trust_->advertise(advert_of(config, node->client_port()));

    Node* self = node.get();
    if (env.serve_status) {
        std::string secret;
        if (node->trust_) {
            auto s = load_or_create_admin_secret(config.data_dir);
            if (!s) return s.status();
            secret = std::move(s).value();
        }
        auto http = StatusServer::start(config.http_bind, config.http_port, [self] { return self->status(); },
                                        node->trust_ ? node.get() : nullptr, secret);
        if (!http) return http.status();
        node->http_ = std::move(http).value();
    }
    DHTALK_TRY(node->write_runtime());
    const auto rt = node->runtime();
    DHTALK_LOG(kInfo, "node", "node " << rt.node_id << " of network '" << rt.network << "' (id " << rt.network_id
                                       << ") up on port " << node->port_ << ", status on http://" << rt.http_address
                                       << ":" << rt.http_port << "/status, clients on TLS port "
                                       << node->client_port());
    return node;
}

std::map<std::string, std::vector<std::string>> Node::member_endpoints() const {
    std::map<std::string, std::vector<std::string>> out;
    if (trust_)
        for (const auto& m : trust_->members()) out[m.node_id] = m.endpoints;
    return out;
}

std::vector<MemberRoom> Node::member_rooms() const {
    std::vector<MemberRoom> rooms;
    std::map<std::string, MemberView> seen;
    if (gossip_)
        for (auto& m : gossip_->members()) seen[m.id] = m;
    for (auto& [id, advert] : trust_->adverts()) {
        if (id == identity_.node_id_hex()) continue;
        MemberRoom room;
        room.load.node_id = id;
        room.load.state = "alive";  // not heard of yet: listed, but sent no logins (no capacity known)
        if (auto it = seen.find(id); it != seen.end()) {
            room.load.state = member_state_name(it->second.state);
            room.load.sessions = it->second.sessions;
            room.load.capacity = it->second.capacity;
        }
        if (!advert.client_endpoints.empty()) room.endpoint = advert.client_endpoints.front();
        rooms.push_back(std::move(room));
    }
    return rooms;
}

void Node::start_gossip() {
    if (!gossip_ || !overlay_ || !overlay_->gossip()) return;
    gossip_->attach(overlay_->gossip());
    gossip_->set_members(member_endpoints());
}

Status Node::start_clients() {
    std::unique_ptr<VerificationSender> sender = env_.make_sms_sender(config_);
    ClientServiceConfig sc;
    sc.network_name = network_name();
    sc.store = store_.get();
    sc.ledger = issuance_ledger_.get();
    sc.inbox.network_id = validator_->network_id();
    sc.inbox.ttl = config_.message_ttl_seconds ? seconds(config_.message_ttl_seconds)
                                                : duration_cast<seconds>(hours(24) * config_.message_ttl_days);
    sc.limits.attempts_per_address = config_.registrations_per_address;
    sc.inbox.limits.max_message_bytes = config_.max_message_kib << 10;
    sc.inbox.limits.max_messages_per_recipient = config_.inbox_messages;
    sc.inbox.limits.max_bytes_per_recipient = uint64_t{config_.inbox_mib} << 20;
    sc.inbox.limits.max_messages_per_pair = config_.inbox_pair_messages;
    sc.inbox.limits.max_bytes_per_pair = uint64_t{config_.inbox_pair_mib} << 20;
    sc.messages_per_second = config_.messages_per_second;
    sc.drivers = env_.drivers.get();
    sc.peer_net = env_.peer_net;
    sc.seed = env_.random_seed();
    sc.max_file_bytes = uint64_t{config_.max_file_mib} << 20;
    sc.session_capacity = static_cast<uint32_t>(config_.max_client_sessions);
    sc.redirect_above = static_cast<uint32_t>(config_.redirect_above ? config_.redirect_above
                                                                      : std::max<size_t>(1, config_.max_client_sessions * 4 / 5));
    clients_ = std::make_unique<ClientService>(sc, identity_, validator_, *user_records_,
                                               [this]() -> RecordDht* {
                                                   Overlay* o = live_overlay_.load();
                                                   if (!o || !env_.records_dht) return o;
                                                   return env_.records_dht(*o);
                                               },
                                               std::move(sender), clock_);
    if (trust_) {
        clients_->attach_registrars([trust = trust_.get()] {
            std::vector<RegistrarPeer> out;
            for (const auto& m : trust->members())
                if (!m.endpoints.empty()) out.push_back({m.node_id, m.endpoints.front(), m.fast_key});
            return out;
        });
        if (peers_) peers_->attach_registrar(clients_->registrar());
        auto member_peers = [trust = trust_.get(), gossip = gossip_.get()] {
            std::set<std::string> dead;
            if (gossip)
                for (const auto& m : gossip->members())
                    if (m.state == MemberState::kDead) dead.insert(m.id);
            std::vector<InboxPeer> out;
            for (const auto& m : trust->members())
                if (!m.endpoints.empty())
                    out.push_back({m.node_id, m.endpoints.front(), m.fast_key, dead.count(m.node_id) == 0});
            return out;
        };
        clients_->inbox().attach_members(member_peers);
        if (peers_) peers_->attach_inbox(&clients_->inbox());
        audit_ = std::make_unique<AuditService>(validator_->network_id(), identity_, *issuance_ledger_, clock_,
                                                *env_.peer_net);
        audit_->attach_members(member_peers);
        if (peers_) peers_->attach_audit(audit_.get());
    }
    DHTALK_TRY(start_media());
    auto held = clients_->inbox().load();
    if (!held) return held.status();
    if (held->skipped) DHTALK_LOG(kWarning, "inbox", "skipped " << held->skipped << " damaged messages on disk");
    if (trust_)
        clients_->attach_roster([trust = trust_.get()](uint64_t at) {
            ClientService::RosterView view;
            view.current = trust->epoch();
            if (auto e = trust->epochs_from(at, 1); !e.empty()) view.epoch = std::move(e.front());
            return view;
        });
    if (trust_)
        clients_->attach_network([this] { return member_rooms(); },
                                 [trust = trust_.get()] { return trust->member_updates(); });
    if (gossip_) {
        clients_->attach_presence(gossip_.get(), [this](uint64_t session, ClientFrame frame) {
            if (client_server_) client_server_->push(session, std::move(frame));
        });
        ClientService* clients = clients_.get();
        gossip_->on_delivery([clients](const PresenceDelivery& d) { clients->deliver(d); });
    }
    auto credentials = make_tls_credentials();
    if (!credentials) return credentials.status();
    ClientServerConfig cc;
    cc.bind = config_.client_bind;
    cc.port = config_.client_port;
    cc.max_sessions = config_.max_client_sessions;
    cc.max_sessions_per_address = config_.max_sessions_per_address;
    cc.address_requests_per_second = config_.client_rate;
    cc.media_requests_per_second = config_.media_chunks_per_second;
    auto server = env_.open_client_front(cc, *credentials, *clients_, clock_);
    if (!server) return server.status();
    client_server_ = std::move(server).value();
    return Status::ok();
}

Status Node::start_media() {
    MediaConfig mc;
    mc.network_id = validator_->network_id();
    mc.limits.offer_bytes = uint64_t{config_.media_offer_mib} << 20;
    mc.limits.quota_bytes_per_owner = uint64_t{config_.media_quota_mib} << 20;
    mc.ttl = duration_cast<seconds>(hours(24) * config_.media_ttl_days);
    media_ = std::make_unique<MediaService>(mc, identity_, *store_, clock_, *env_.drivers, *env_.peer_net);
    if (trust_) {
        media_->attach_members([trust = trust_.get(), gossip = gossip_.get()] {
            std::set<std::string> dead;
            if (gossip)
                for (const auto& m : gossip->members())
                    if (m.state == MemberState::kDead) dead.insert(m.id);
            const auto adverts = trust->adverts();
            std::vector<MediaPeer> out;
            for (const auto& m : trust->members()) {
                auto advert = adverts.find(m.node_id);
                if (m.endpoints.empty() || advert == adverts.end()) continue;
                out.push_back({m.node_id, m.endpoints.front(), m.fast_key, dead.count(m.node_id) == 0,
                               advert->second.media_offer_mib});
            }
            return out;
        });
        if (peers_) peers_->attach_media(media_.get());
    }
    auto held = media_->load();
    if (!held) return held.status();
    if (held->skipped) DHTALK_LOG(kWarning, "media", "skipped " << held->skipped << " damaged chunks on disk");
    clients_->attach_media(media_.get());
    return Status::ok();
}

Result<std::shared_ptr<crypto::TlsCredentials>> Node::make_tls_credentials() {
    const WallTime now = clock_.wall_now();
    auto cert = crypto::make_tls_certificate(identity_, now, kTlsCertificateValidity);
    if (!cert) return cert.status();
    auto credentials = crypto::TlsCredentials::with_certificate(**cert, *identity_.fast_key);
    if (!credentials) return credentials.status();
    DHTALK_TRY((*credentials)->enable_session_tickets());
    tls_renew_at_ = now + kTlsCertificateValidity / 2;
    return credentials;
}

MemberDirectory::Members Node::member_keys() const {
    MemberDirectory::Members out;
    if (!trust_) {
        out[identity_.node_id_hex()] = identity_.fast_public;
        return out;
    }
    for (const auto& m : trust_->members()) out[m.node_id] = m.fast_key;  // the roster was verified when adopted
    return out;
}

Node::Node(const NodeConfig& config, const NodeEnv& env, FileLock lock)
    : config_(config),
      env_(env),
      clock_(*env.clock),
      started_(clock_.now()),
      loop_(std::make_shared<OwnerDrivers>([this] {
          if (env_.wake) env_.wake();
      })),
      next_snapshot_(started_ + config.persist_interval),
      lock_(std::move(lock)) {}

Node::~Node() {
    if (!stopped_) stop().ignore_error();  // an early exit: best effort, already logged
}

Status Node::start_overlay() {
    OverlayConfig oc;
    oc.bind_address = config_.bind;
    oc.advertise = advertised_host(config_);
    oc.port = port_;
    oc.node_id = identity_.node_id();
    oc.bootstrap = config_.bootstrap;
    oc.max_store_bytes = config_.max_store_mb << 20;
    oc.requests_per_address = config_.dht_requests_per_address;
    oc.open_socket = env_.open_datagram_socket;
    oc.drivers = env_.drivers.get();
    oc.loop_on_receive = env_.dht_loop_on_receive;
    if (trust_) {
        oc.network_id = trust_->network_id();
        for (const auto& e : trust_->peer_endpoints())
            if (std::find(oc.bootstrap.begin(), oc.bootstrap.end(), e) == oc.bootstrap.end()) oc.bootstrap.push_back(e);
        // An open network with a roster still seals its gossip: only
        // members hold the key, so only they speak for members.
        oc.seal_key = trust_->epoch_key();
        if (!oc.seal_key) return Status::internal("this member cannot open its epoch key");
        oc.seal_gossip_only = config_.open;
    } else {
        oc.network_id = network_id();
    }
    oc.before_bootstrap = [this](dht::DhtRunner& runner) {
        register_stock_types(runner, trust_ ? StockTypes::kRefuseAll : StockTypes::kBoundedDefault, policy_);
        register_record_types(runner, validator_, record_policy_);
        register_issuance_type(runner, validator_, record_policy_, [ledger = issuance_ledger_.get()](const IssuedCertificate& c) {
            if (Status s = ledger->record(c); !s) DHTALK_LOG(kWarning, "audit", "cannot keep an issuance: " << s.message());
        });
    };
    auto overlay = Overlay::start(oc, restored_, clock_);
    if (!overlay) return overlay.status();
    restored_.clear();
    overlay_ = std::move(overlay).value();
    live_overlay_ = overlay_.get();
    if (port_ == 0) port_ = overlay_->port_ipv4() ? overlay_->port_ipv4() : overlay_->port_ipv6();
    start_gossip();
    return Status::ok();
}

void Node::on_roster_change() {
    const auto standing = trust_->standing();
    if (standing == TrustedNetwork::Standing::kBanned) {
        if (!banned_logged_)
            DHTALK_LOG(kError, "node", "the members have banned this node; it is cut off from the network");
        banned_logged_ = true;
        return;
    }
    if (standing != TrustedNetwork::Standing::kMember) return;
    if (!overlay_) {
        Status s = start_overlay();
        if (!s) {
            DHTALK_LOG(kError, "node", "admitted, but cannot join the overlay: " << s.message());
            return;
        }
        DHTALK_LOG(kInfo, "node", "admitted to the network: joined the overlay");
        if (clients_) clients_->republish();
        write_runtime().ignore_error();  // the ports are in the log as well
        return;
    }
    if (overlay_->seals_gossip()) {
        auto key = trust_->epoch_key();
        if (key) overlay_->set_seal_key(*key).ignore_error();  // cannot fail for a sealed overlay
    }
    if (gossip_) gossip_->set_members(member_endpoints());
}

uint32_t Node::network_id() const {
    return trust_ ? trust_->network_id() : crypto::network_id_from_name(config_.network);
}

std::string Node::network_name() const { return trust_ ? trust_->network_name() : config_.network; }

Status Node::write_runtime() {
    RuntimeInfo rt;
    rt.node_id = identity_.node_id_hex();
    rt.network_id = network_id();
    rt.network = network_name();
    rt.pid = ::getpid();
    if (overlay_) {
        rt.dht_port_ipv4 = overlay_->port_ipv4();
        rt.dht_port_ipv6 = overlay_->port_ipv6();
    }
    rt.peer_port = peers_ ? peers_->port() : 0;
    rt.client_port = client_port();
    rt.http_address = config_.http_bind;
    rt.http_port = http_ ? http_->port() : 0;
    rt.version = DHTALK_VERSION;
    {
        std::lock_guard lock(runtime_mutex_);
        runtime_ = rt;
    }
    return write_runtime_info(config_.data_dir, rt);
}

RuntimeInfo Node::runtime() const {
    std::lock_guard lock(runtime_mutex_);
    return runtime_;
}

Status Node::snapshot() {
    std::lock_guard lock(snapshot_mutex_);
    Overlay* overlay = live_overlay_.load();
    if (!overlay) return Status::ok();  // nothing stored for the network yet
    auto saved = archive_->save(overlay->export_values());
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

void Node::post(std::function<void()> task) {
    {
        std::lock_guard lock(posted_mutex_);
        if (!accepting_posts_) return;  // stopping: the owner ticks no more
        posted_.push_back(std::move(task));
    }
    if (env_.wake) env_.wake();
}

SteadyTime Node::tick() {
    std::vector<std::function<void()>> posted;
    {
        std::lock_guard lock(posted_mutex_);
        posted.swap(posted_);
    }
    for (auto& task : posted) task();
    const auto now = clock_.now();
    if (now >= next_snapshot_) {
        // Off the loop: it waits on OpenDHT's thread and the disk. Refused
        // only while the last one still runs; the next interval tries again.
        static_cast<void>(snapshot_worker_->post([this] { snapshot().ignore_error(); }));  // logged and counted
        next_snapshot_ = now + config_.persist_interval;
        if (clients_) {
            clients_->inbox().expire_later();
            clients_->inbox().repair_later();
        }
        if (media_) {
            media_->expire();  // a scan of what is held in memory; the disk only for what goes
            media_->repair_later();
        }
    }
    if (clients_) clients_->inbox().renew_follows();
    if (const uint32_t today = day_of(to_unix_seconds(clock_.wall_now())); today != ledger_day_) {
        ledger_day_ = today;
        if (today > IssuanceLedger::kKeptDays)
            if (auto gone = issuance_ledger_->forget_before(today - IssuanceLedger::kKeptDays); !gone)
                DHTALK_LOG(kWarning, "audit", "cannot forget old issuances: " << gone.status().message());
    }
    if (client_server_ && clock_.wall_now() >= tls_renew_at_) {
        // Halfway through its validity; after a failure the current one
        // stays, and the renewal is tried again an hour later.
        auto renewed = make_tls_credentials();
        if (renewed) {
            client_server_->set_credentials(std::move(renewed).value());
        } else {
            tls_renew_at_ = clock_.wall_now() + hours(1);
            DHTALK_LOG(kError, "node", "cannot renew the TLS certificate: " << renewed.status().to_string());
        }
    }
    SteadyTime next = next_snapshot_;
    if (trust_) next = std::min(next, trust_->tick());
    next = std::min(next, loop_->run_due(now));
    if (gossip_ && client_server_) {
        gossip_->set_load(static_cast<uint32_t>(client_server_->stats().sessions),
                          static_cast<uint32_t>(config_.max_client_sessions));
        // The load travels with the membership protocol's probes, one a period.
        next = std::min(next, now + config_.swim_period);
    }
    return std::max(next, now);  // a part woken meanwhile has also called wake()
}

Status Node::stop() {
    if (stopped_) return Status::ok();
    stopped_ = true;
    {
        std::lock_guard lock(posted_mutex_);
        accepting_posts_ = false;  // the owner's work ends here
        posted_.clear();
    }
    if (gossip_) gossip_->logout_all();  // watchers hear it now, not at the failure detector's pace
    if (client_server_) client_server_->stop();
    if (gossip_) gossip_->on_delivery(nullptr);
    if (peers_) peers_->stop();  // before the front end's service: its registrar serves peers
    if (trust_) trust_->stop();  // no catch-up adopts from here on; votes end with the status server below
    clients_.reset();  // after the front end: it calls in
    media_.reset();    // after the front end and the peer service: both call in
    if (http_) http_->stop();
    if (snapshot_worker_) snapshot_worker_->stop();  // the last snapshot is taken below
    Status result;
    if (overlay_) {
        // Snapshot while OpenDHT still holds the values: join() discards them.
        Status s = snapshot();
        if (!s) result = s;
        live_overlay_ = nullptr;
        if (gossip_) gossip_->detach();
        Status left = overlay_->stop(seconds(5));
        if (!left) DHTALK_LOG(kWarning, "node", left.to_string());
    }
    if (store_) {
        Status s = store_->sync();
        if (!s && result) result = s;
    }
    overlay_.reset();
    gossip_.reset();
    client_server_.reset();
    http_.reset();
    peers_.reset();
    trust_.reset();
    store_.reset();
    remove_runtime_info(config_.data_dir);
    DHTALK_LOG(kInfo, "node", "stopped");
    return result;
}

}  // namespace dhtalk
