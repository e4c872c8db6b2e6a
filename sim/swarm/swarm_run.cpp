#include "sim/swarm/swarm_run.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <queue>
#include <set>

#include "common/clock.h"
#include "common/rng.h"
#include "crypto/node_identity.h"
#include "crypto/user_certificate.h"
#include "dht/overlay.h"
#include "net/inbox_message.h"
#include "node/node.h"
#include "records/record.h"
#include "records/record_bodies.h"
#include "sim/inbox_follower.h"
#include "sim/sim_nodes.h"
#include "sim/sim_ops.h"
#include "sim/swarm/failure_watch.h"
#include "sim/swarm/record_strategies.h"
#include "sim/swarm/traffic_meter.h"
#include "sim/swarm/zipf.h"

namespace dhtalk {

using namespace std::chrono;

namespace {

constexpr milliseconds kStep{5};              // how often clients look at their sessions
constexpr seconds kAnswerWithin{30};          // a request unanswered by then timed out
constexpr seconds kFetchEvery{60};            // as `dhtalk inbox --follow`
constexpr seconds kResendAfter{10};           // a message not stored by then is sent again (same id)
constexpr seconds kRetryLogin{2};             // after a failover a node refused
constexpr seconds kSettle{10};                // after founding: the membership protocol settles
constexpr size_t kMinNodesUp = 2;             // churn never takes the network below this
constexpr unsigned kNodeKeyBits = 2048;       // OpenDHT's node identities (RSA)
constexpr int64_t kVCardLifetimeS = 24 * 3600;

double exponential_s(Rng& rng, double mean_s) {
    double u = rng.uniform01();
    while (u <= 0.0) u = rng.uniform01();
    return -mean_s * std::log(u);
}

struct Pending {
    enum class Kind { kResolve, kPut, kSend, kFetch, kOther };
    Kind kind = Kind::kOther;
    size_t index = 0;  // kResolve, kPut: the operation; kSend: the message
    uint64_t id = 0;
    SteadyTime asked{};
};

struct Client {
    SimUser user;
    std::string address;
    size_t home = 0;  // the node it registered through and logs in on first
    size_t node = 0;
    uint64_t session = 0;  // 0: not logged in
    size_t pushes_read = 0;
    SteadyTime next_fetch{};
    uint64_t vcard_sequence = 0;
    SteadyTime retry_login{};  // after a failed failover
    std::vector<size_t> watching;
    std::vector<Pending> pending;
    InboxFollower inbox;
};

// A resolve or a vCard update, waiting for its answer.
struct Operation {
    SwarmEvent event;
    SteadyTime started{};
};

struct Message {
    size_t from = 0, to = 0;
    SteadyTime sent{};
    bool stored = false;
    std::optional<SteadyTime> delivered;
};

struct PresenceChange {
    size_t user = 0;
    SteadyTime at{};
    std::vector<size_t> watchers;  // logged in when it changed
    std::vector<std::optional<SteadyTime>> seen;
};

class Trial {
public:
    Trial(const Scenario& s, size_t trial, const std::filesystem::path& dir, const SwarmProgress& progress)
        : s_(s), seed_(s.seed + trial), dir_(dir), progress_(progress), rng_(seed_ ^ 0x5377'61726d), sim_(sim_config()) {
        if (s_.strategy != "dht")
            strategy_ = make_record_strategy(s_.strategy == "full" ? StrategyKind::kFull : StrategyKind::kBroadcast,
                                             sim_.network(), s_.nodes, seconds(static_cast<int64_t>(s_.cache_ttl_s)));
    }

    Result<SwarmTrial> run() {
        // The real time: steady_clock reads the simulation's virtual clock.
        auto wall = [start = system_clock::now()] { return duration<double>(system_clock::now() - start).count(); };
        DHTALK_TRY(found());
        wall_founding_s_ = wall();
        DHTALK_TRY(register_users());
        wall_registering_s_ = wall() - wall_founding_s_;
        plan_churn();
        const double total_s = s_.warmup_s + s_.measure_s + s_.drain_s;
        t0_ = sim_.network().now();
        measure_from_ = t0_ + seconds_of(s_.warmup_s);
        measure_to_ = measure_from_ + seconds_of(s_.measure_s);
        const SteadyTime end = measure_to_ + seconds_of(s_.drain_s);
        next_ = {t0_ + arrival(s_.resolves_per_s), t0_ + arrival(s_.vcards_per_s), t0_ + arrival(s_.presence_per_s),
                 t0_ + arrival(s_.messages_per_s)};
        SteadyTime next_report = t0_;
        while (sim_.network().now() < end) {
            sim_.network().run_for(kStep);
            const SteadyTime now = sim_.network().now();
            account(now);
            if (progress_ && now >= next_report) {
                const char* phase = now < measure_from_ ? "warm-up" : now < measure_to_ ? "measuring" : "draining";
                progress_(phase, duration<double>(now - t0_).count(), total_s);
                next_report = now + seconds(1);
            }
            partition(now);
            if (now < measure_to_) {
                DHTALK_TRY(churn(now));
                watch_->look(now, up_, measuring_);
                start_operations(now);
            }
            for (size_t u = 0; u < clients_.size(); ++u) DHTALK_TRY(step(u, now));
        }
        auto trial = finish(up_samples_ ? up_sum_ / static_cast<double>(up_samples_) : 0);
        if (trial) {
            trial->wall_founding_s = wall_founding_s_;
            trial->wall_registering_s = wall_registering_s_;
            trial->wall_running_s = wall() - wall_founding_s_ - wall_registering_s_;
        }
        return trial;
    }

private:
    SimNodesConfig sim_config() const {
        SimNodesConfig c;
        c.seed = seed_;
        c.dir = dir_ / "nodes";
        c.link.seed = seed_;
        c.link.median_latency = microseconds(static_cast<int64_t>(s_.latency_ms * 1000));
        c.link.latency_sigma = s_.latency == "lognormal" ? s_.latency_sigma : 0.0;
        c.link.uniform = s_.latency == "uniform";
        c.link.min_latency = microseconds(static_cast<int64_t>(s_.min_latency_ms * 1000));
        c.link.max_latency = microseconds(static_cast<int64_t>(s_.max_latency_ms * 1000));
        if (s_.latency == "constant") c.link.min_latency = std::min(c.link.min_latency, c.link.median_latency);
        c.link.loss = s_.loss;
        c.link.burst_enter = s_.burst_enter;
        c.link.burst_leave = s_.burst_leave;
        c.link.burst_loss = s_.burst_loss;
        if (s_.strategy != "dht")
            c.records = [this](size_t node, RecordDht& overlay) { return strategy_->door(node, overlay); };
        return c;
    }

    static nanoseconds seconds_of(double s) { return duration_cast<nanoseconds>(duration<double>(s)); }
    nanoseconds arrival(double rate) {
        return rate > 0 ? seconds_of(exponential_s(rng_, 1.0 / rate)) : duration_cast<nanoseconds>(hours(24 * 365 * 100));
    }
    double since_measure(SteadyTime t) const { return duration<double>(t - measure_from_).count(); }
    bool measured(SteadyTime t) const { return t >= measure_from_ && t < measure_to_; }

    // The nodes, founded and admitted by vote (or from the roster a vote
    // would make), with identities made from the seed.
    Status found() {
        if (progress_) progress_("founding", 0, 0);
        base_.network = "swarm";
        base_.roster_interval = seconds(1);
        base_.persist_interval = seconds(30);
        // Every simulated host is 127.0.0.1: OpenDHT's limit per address
        // would count the whole network as one peer.
        base_.dht_requests_per_address = 0;
        std::vector<std::filesystem::path> identities;
        for (size_t i = 0; i < s_.nodes; ++i) {
            identities.push_back(dir_ / "identities" / std::to_string(i));
            auto id = crypto::load_or_create_identity(identities.back(), kNodeKeyBits);
            if (!id) return id.status();
            sim_.add_slot();
            DHTALK_TRY(sim_.set_identity(i, identities.back()));
        }
        DHTALK_TRY(s_.founding == "prepared" ? sim_found_prepared(sim_, s_.nodes, base_, identities)
                                             : sim_found(sim_, s_.nodes, base_, identities));
        std::vector<std::string> ids;
        for (const auto& identity : identities) ids.push_back(sim_node_id(identity));
        watch_.emplace(sim_, std::move(ids));
        meter_.emplace(sim_, s_.nodes, strategy_.get());
        DHTALK_TRY(shape_links());
        up_.assign(s_.nodes, true);
        if (strategy_)
            for (size_t i = 0; i < s_.nodes; ++i) strategy_->started(i);
        sim_.network().run_for(kSettle);
        return Status::ok();
    }

    // Regions and uplink caps, from the end of founding on (founding is
    // not measured): node i and its strategy host are in region i % regions.
    Status shape_links() {
        auto matrix = region_latencies(s_);
        if (!matrix) return matrix.status();
        std::vector<std::vector<nanoseconds>> delays;
        for (const auto& row : *matrix) {
            delays.emplace_back();
            for (double ms : row) delays.back().push_back(duration_cast<nanoseconds>(duration<double, std::milli>(ms)));
        }
        SimNetwork& net = sim_.network();
        net.set_region_delays(std::move(delays));
        const auto uplink = static_cast<uint64_t>(s_.uplink_kbit_s * 1000 / 8);
        for (size_t i = 0; i < s_.nodes; ++i)
            for (auto host : node_hosts(i)) {
                net.set_region(host, static_cast<uint32_t>(i % s_.regions));
                net.set_uplink(host, uplink);
            }
        return Status::ok();
    }

    std::vector<SimNetwork::HostId> node_hosts(size_t i) const {
        std::vector<SimNetwork::HostId> hosts{sim_.host(i)};
        if (strategy_) hosts.push_back(strategy_->host(i));
        return hosts;
    }

    // The partition: `partition_share` of the nodes (drawn then) cut off
    // from the rest from partition.at-s into the measurement, for heal-s.
    void partition(SteadyTime now) {
        if (s_.partition_at_s < 0) return;
        const SteadyTime split = measure_from_ + seconds_of(s_.partition_at_s);
        const SteadyTime heal = split + seconds_of(s_.partition_heal_s);
        if (!split_ && now >= split && now < heal) {
            std::vector<size_t> order(s_.nodes);
            for (size_t i = 0; i < s_.nodes; ++i) order[i] = i;
            for (size_t k = s_.nodes; k > 1; --k) std::swap(order[k - 1], order[rng_.uniform(k)]);
            const size_t cut = std::max<size_t>(1, static_cast<size_t>(s_.partition_share * static_cast<double>(s_.nodes) + 0.5));
            std::vector<bool> side(sim_.network().host_count(), false);
            for (size_t k = 0; k < cut; ++k)
                for (auto host : node_hosts(order[k])) side[host] = true;
            sim_.network().set_partition([side](SimNetwork::HostId a, SimNetwork::HostId b) {
                return a < side.size() && b < side.size() && side[a] != side[b];
            });
            split_ = true;
            record(now, -1, -1, "partition", std::to_string(cut) + " nodes cut off");
        } else if (split_ && !healed_ && now >= heal) {
            sim_.network().set_partition(nullptr);
            healed_ = true;
            record(now, -1, -1, "heal", "ok");
        }
    }

    Status register_users() {
        const size_t users = s_.nodes * s_.users_per_node;
        clients_.resize(users);
        for (size_t u = 0; u < users; ++u) {
            if (progress_ && u % 10 == 0) progress_("registering", static_cast<double>(u), static_cast<double>(users));
            Client& c = clients_[u];
            c.home = u % s_.nodes;
            c.address = "10." + std::to_string(u / 62500) + "." + std::to_string(u / 250 % 250) + "." + std::to_string(u % 250);
            char phone[32];
            std::snprintf(phone, sizeof phone, "+1555%07zu", u);
            auto key = crypto::generate_user_key();
            if (!key) return key.status();
            auto registered = sim_register(sim_, c.home, phone, std::move(key).value(), c.address);
            if (!registered) return Status(registered.status().code(), "registering user " + std::to_string(u) + ": " + registered.status().message());
            c.user = std::move(registered).value();
        }
        popular_.emplace(users, s_.popularity, rng_);
        for (size_t u = 0; u < users; ++u) {
            std::set<size_t> contacts;
            for (size_t tries = 0; contacts.size() < std::min(s_.watches_per_user, users - 1) && tries < 100 * users; ++tries)
                if (const size_t v = popular_->draw(rng_); v != u) contacts.insert(v);
            clients_[u].watching.assign(contacts.begin(), contacts.end());
            for (size_t v : contacts) watchers_[v].push_back(u);
        }
        for (size_t u = 0; u < users; ++u) {
            DHTALK_TRY(log_in(u, clients_[u].home));
            publish_vcard(u, std::nullopt);
        }
        return Status::ok();
    }

    // Logs `u` in on `node`: follows the inbox, watches the contacts, fetches.
    Status log_in(size_t u, size_t node) {
        Client& c = clients_[u];
        c.node = node;
        c.session = 0;
        c.pushes_read = 0;
        auto session = sim_login(sim_, node, c.user, c.address);
        if (!session) return Status(session.status().code(), "user " + std::to_string(u) + " cannot log in: " + session.status().message());
        c.session = *session;
        ask(u, "inbox.follow", {}, {});
        if (!c.watching.empty()) {
            std::vector<std::string> ids;
            for (size_t v : c.watching) ids.push_back(clients_[v].user.user_id);
            ask(u, "presence.watch", {{"user_ids", ids}}, {});
        }
        c.next_fetch = sim_.network().now();
        return Status::ok();
    }

    size_t up_count() const { return static_cast<size_t>(std::count(up_.begin(), up_.end(), true)); }

    size_t live_node(size_t avoid) {
        for (;;) {
            const size_t n = rng_.uniform(s_.nodes);
            if (up_[n] && (n != avoid || up_count() == 1)) return n;
        }
    }

    // Churn: each node's departures and restarts, from the session model,
    // the mass failure and the flash crowd. Planned from the start of the
    // warm-up.
    struct ChurnEvent {
        SteadyTime at;
        size_t node;
        // kFlashAway: the flash crowd's nodes leave; kFlashCrowd: they join.
        enum class Kind { kDepart, kRestart, kMassFailure, kFlashAway, kFlashCrowd } kind;
        bool operator<(const ChurnEvent& o) const { return at != o.at ? at > o.at : node > o.node; }  // a min-heap
    };

    void plan_churn() {
        const SteadyTime start = sim_.network().now();
        const SessionTimes sessions(s_.churn, s_.median_session_s, s_.session_shape);
        for (size_t n = 0; n < s_.nodes; ++n)
            if (auto first = sessions.draw(rng_)) churn_.push({start + seconds_of(*first), n, ChurnEvent::Kind::kDepart});
        if (s_.mass_failure_at_s >= 0 && s_.mass_failure_share > 0)
            churn_.push({start + seconds_of(s_.warmup_s + s_.mass_failure_at_s), 0, ChurnEvent::Kind::kMassFailure});
        if (s_.flash_crowd_at_s >= 0 && s_.flash_crowd_share > 0) {
            flash_crowd_at_ = start + seconds_of(s_.warmup_s + s_.flash_crowd_at_s);
            churn_.push({start, 0, ChurnEvent::Kind::kFlashAway});
            churn_.push({flash_crowd_at_, 0, ChurnEvent::Kind::kFlashCrowd});
        }
    }

    // The running nodes in a random order.
    std::vector<size_t> running_shuffled() {
        std::vector<size_t> running;
        for (size_t n = 0; n < s_.nodes; ++n)
            if (up_[n]) running.push_back(n);
        for (size_t k = running.size(); k > 1; --k) std::swap(running[k - 1], running[rng_.uniform(k)]);
        return running;
    }

    // How many of `running` nodes a share may take down, leaving kMinNodesUp.
    static size_t share_of(double share, size_t running) {
        return std::min(running - std::min(running, kMinNodesUp),
                        static_cast<size_t>(share * static_cast<double>(running) + 0.5));
    }

    double downtime_s() { return exponential_s(rng_, s_.median_downtime_s / std::log(2.0)); }

    void record(SteadyTime t, int64_t node, int64_t user, const std::string& kind, const std::string& outcome,
                double latency_ms = -1, uint64_t ref = 0, bool home_down = false) {
        events_.push_back({since_measure(t), node, user, kind, outcome, latency_ms, ref, home_down});
    }

    // Node `n` crashes or leaves; it restarts after a downtime, or, with
    // `restart` false, when something else starts it (a flash crowd).
    Status take_down(size_t n, bool crash, SteadyTime now, bool restart = true) {
        if (crash) sim_.crash(n);
        else sim_.stop(n);
        up_[n] = false;
        if (strategy_) strategy_->stopped(n);
        if (crash) watch_->crashed(n, now);
        record(now, static_cast<int64_t>(n), -1, crash ? "crash" : "leave", "ok");
        if (restart) churn_.push({now + seconds_of(downtime_s()), n, ChurnEvent::Kind::kRestart});
        return Status::ok();
    }

    // Node `n` starts again on its own store, from a running node, and
    // draws its next session.
    Status bring_up(size_t n, SteadyTime now, const SessionTimes& sessions) {
        NodeConfig again = base_;
        again.bootstrap = {sim_.endpoint(live_node(n))};
        Status started = sim_.start(n, again);
        if (!started) return Status(started.code(), "restarting node " + std::to_string(n) + ": " + started.message());
        up_[n] = true;
        if (strategy_) strategy_->started(n);
        watch_->started(n, now);
        record(now, static_cast<int64_t>(n), -1, "restart", "ok");
        if (auto next = sessions.draw(rng_)) churn_.push({now + seconds_of(*next), n, ChurnEvent::Kind::kDepart});
        return Status::ok();
    }

    Status churn(SteadyTime now) {
        const SessionTimes sessions(s_.churn, s_.median_session_s, s_.session_shape);
        while (!churn_.empty() && churn_.top().at <= now) {
            const ChurnEvent e = churn_.top();
            churn_.pop();
            if (e.kind == ChurnEvent::Kind::kMassFailure) {
                const std::vector<size_t> running = running_shuffled();
                const size_t fail = share_of(s_.mass_failure_share, running.size());
                record(now, -1, -1, "mass-failure", std::to_string(fail) + " nodes");
                for (size_t k = 0; k < fail; ++k) DHTALK_TRY(take_down(running[k], true, now));
            } else if (e.kind == ChurnEvent::Kind::kFlashAway) {
                // The users' first vCards go out through their home nodes
                // just before: the nodes leave once those are answered
                // (stored), else their users would have no record at all;
                // at the latest just before the crowd comes back.
                const bool busy = std::any_of(clients_.begin(), clients_.end(), [](const Client& c) { return !c.pending.empty(); });
                if (busy && now + 2 * kStep < flash_crowd_at_) {
                    churn_.push({now + kStep, e.node, e.kind});
                    continue;
                }
                flash_away_done_ = true;
                const std::vector<size_t> running = running_shuffled();
                const size_t away = share_of(s_.flash_crowd_share, running.size());
                record(now, -1, -1, "flash-away", std::to_string(away) + " nodes");
                for (size_t k = 0; k < away; ++k) {
                    DHTALK_TRY(take_down(running[k], false, now, /*restart=*/false));
                    flash_crowd_.push_back(running[k]);
                }
            } else if (e.kind == ChurnEvent::Kind::kFlashCrowd) {
                if (!flash_away_done_) {  // due at the same time, and not yet taken
                    churn_.push({now + kStep, e.node, e.kind});
                    continue;
                }
                record(now, -1, -1, "flash-crowd", std::to_string(flash_crowd_.size()) + " nodes");
                for (size_t n : flash_crowd_)
                    if (!up_[n]) DHTALK_TRY(bring_up(n, now, sessions));
                flash_crowd_.clear();
            } else if (e.kind == ChurnEvent::Kind::kDepart) {
                if (!up_[e.node]) continue;  // down already (a mass failure): its restart plans the next
                if (up_count() <= kMinNodesUp) {
                    if (auto again = sessions.draw(rng_)) churn_.push({now + seconds_of(*again), e.node, e.kind});
                    continue;
                }
                DHTALK_TRY(take_down(e.node, !rng_.bernoulli(s_.leave_share), now));
            } else {
                DHTALK_TRY(bring_up(e.node, now, sessions));
            }
        }
        return Status::ok();
    }

    bool online(size_t u) const { return clients_[u].session != 0 && up_[clients_[u].node]; }

    void ask(size_t u, const std::string& method, FrameParams params, Pending p) {
        Client& c = clients_[u];
        if (!online(u)) return;
        p.id = sim_.front(c.node)->request(c.session, method, std::move(params));
        p.asked = sim_.network().now();
        if (p.id) c.pending.push_back(p);
    }

    void start_operations(SteadyTime now) {
        const size_t users = clients_.size();
        while (next_[0] <= now) {  // resolve a popular user's vCard
            next_[0] += arrival(s_.resolves_per_s);
            const size_t asker = rng_.uniform(users), target = popular_->draw(rng_);
            if (!online(asker)) continue;
            operations_.push_back({SwarmEvent{since_measure(now), static_cast<int64_t>(clients_[asker].node),
                                              static_cast<int64_t>(asker), "resolve", "", -1, target,
                                              !up_[clients_[target].home]},
                                   now});
            ask(asker, "get", {{"type", std::string("vcard")}, {"user_id", clients_[target].user.user_id}},
                {Pending::Kind::kResolve, operations_.size() - 1, 0, {}});
        }
        while (next_[1] <= now) {  // a user updates their vCard
            next_[1] += arrival(s_.vcards_per_s);
            if (const size_t u = rng_.uniform(users); online(u)) publish_vcard(u, now);
        }
        while (next_[2] <= now) {  // a user changes their presence
            next_[2] += arrival(s_.presence_per_s);
            const size_t u = rng_.uniform(users);
            if (!online(u)) continue;
            PresenceChange change;
            change.user = u;
            change.at = now;
            for (size_t w : watchers_[u])
                if (online(w)) change.watchers.push_back(w);
            change.seen.resize(change.watchers.size());
            changes_.push_back(std::move(change));
            ask(u, "presence.set", {{"show", std::string("available")}, {"status", "c" + std::to_string(changes_.size() - 1)}}, {});
        }
        while (next_[3] <= now) {  // a message between two users
            next_[3] += arrival(s_.messages_per_s);
            Message m;
            m.from = rng_.uniform(users);
            do m.to = rng_.uniform(users);
            while (m.to == m.from && users > 1);
            m.sent = now;
            messages_.push_back(m);
            send(messages_.size() - 1);
        }
    }

    void publish_vcard(size_t u, std::optional<SteadyTime> now) {
        Client& c = clients_[u];
        Record r;
        r.type = RecordType::kVCard;
        r.user_id = c.user.user_id;
        r.certificate = c.user.certificate->toString();
        r.sequence = ++c.vcard_sequence;
        r.expires_at_s = to_unix_seconds(sim_.clock().wall_now()) + kVCardLifetimeS;
        VCard card;
        card.name = "user " + std::to_string(u) + " (" + std::to_string(r.sequence) + ")";
        r.body = encode_vcard(card);
        auto sealed = seal_record(r, *c.user.key);
        if (!sealed) return;
        Pending p{Pending::Kind::kOther, 0, 0, {}};
        if (now) {
            operations_.push_back({SwarmEvent{since_measure(*now), static_cast<int64_t>(c.node), static_cast<int64_t>(u), "put", "", -1, 0, false}, *now});
            p = {Pending::Kind::kPut, operations_.size() - 1, 0, {}};
        }
        ask(u, "put", {{"record", *sealed}}, p);
    }

    void send(size_t index) {
        const Message& m = messages_[index];
        if (!online(m.from)) {
            clients_[m.from].pending.push_back({Pending::Kind::kSend, index, 0, {}});  // id 0: sent after the failover
            return;
        }
        ask(m.from, "message.send",
            {{"to", clients_[m.to].user.user_id}, {"device", clients_[m.to].user.device_id}, {"id", "m" + std::to_string(index)}, {"body", std::string(120, 'c')},
             {"sent_ms", uint64_t{1}}},
            {Pending::Kind::kSend, index, 0, {}});
    }

    void answered(Operation& op, SteadyTime now, const std::string& outcome) {
        if (!op.event.outcome.empty()) return;
        op.event.outcome = outcome;
        op.event.latency_ms = duration<double, std::milli>(now - op.started).count();
    }

    // A copy handed to `u`: the first is the delivery, later ones dropped.
    void handed(size_t u, const std::string& encoded, SteadyTime now) {
        const auto id = clients_[u].inbox.take(encoded);
        if (!id) return;
        const size_t index = std::strtoul(id->c_str() + 1, nullptr, 10);
        if (index < messages_.size() && !messages_[index].delivered) messages_[index].delivered = now;
    }

    void pushed(size_t u, const ClientFrame& f, SteadyTime now) {
        if (f.kind == "message") {
            if (auto bytes = f.text("message", kMaxEncodedMessageBytes)) handed(u, *bytes, now);
            return;
        }
        if (f.kind != "presence") return;
        auto status = f.text("status", 64);
        if (!status || status->size() < 2 || (*status)[0] != 'c') return;
        const size_t index = std::strtoul(status->c_str() + 1, nullptr, 10);
        if (index >= changes_.size()) return;
        PresenceChange& change = changes_[index];
        for (size_t k = 0; k < change.watchers.size(); ++k)
            if (change.watchers[k] == u && !change.seen[k]) change.seen[k] = now;
    }

    Status step(size_t u, SteadyTime now) {
        Client& c = clients_[u];
        if (!online(u)) {
            // Its node went away: the connection reset. Log in elsewhere and
            // send again what was not stored; the other requests are lost.
            // A node that has just restarted may refuse: try another later.
            if (now < c.retry_login) return Status::ok();
            std::vector<Pending> unanswered = std::move(c.pending);
            c.pending.clear();
            for (const auto& q : unanswered)
                if (q.kind == Pending::Kind::kResolve || q.kind == Pending::Kind::kPut) answered(operations_[q.index], now, "error");
            const bool in = static_cast<bool>(log_in(u, live_node(c.node)));
            if (!in) c.session = 0, c.retry_login = now + kRetryLogin;
            for (const auto& q : unanswered)
                if (q.kind == Pending::Kind::kSend) {
                    if (in) send(q.index);
                    else c.pending.push_back({Pending::Kind::kSend, q.index, 0, {}});
                }
            return Status::ok();
        }
        MemoryFront* front = sim_.front(c.node);
        const auto& frames = front->pushed(c.session);
        for (; c.pushes_read < frames.size(); ++c.pushes_read) pushed(u, frames[c.pushes_read], now);
        std::vector<Pending> waiting, resend;
        for (const auto& q : c.pending) {
            if (q.id == 0) {  // a message waiting for a session
                resend.push_back(q);
                continue;
            }
            auto reply = front->reply(c.session, q.id);
            if (!reply) {
                if (q.kind == Pending::Kind::kSend && now - q.asked > kResendAfter) resend.push_back(q);
                else if ((q.kind == Pending::Kind::kResolve || q.kind == Pending::Kind::kPut) && now - q.asked > kAnswerWithin)
                    answered(operations_[q.index], now, "timeout");
                else waiting.push_back(q);
                continue;
            }
            const Status st = reply->status();
            switch (q.kind) {
                case Pending::Kind::kResolve:
                    answered(operations_[q.index], now,
                             st ? "ok" : st.code() == Code::kNotFound ? "not-found" : "error");
                    break;
                case Pending::Kind::kPut:
                    answered(operations_[q.index], now, st ? "ok" : "error");
                    break;
                case Pending::Kind::kSend:
                    if (st) messages_[q.index].stored = true;
                    else resend.push_back(q);  // refused for now: again, same id
                    break;
                case Pending::Kind::kFetch:
                    if (auto list = st ? reply->list("messages") : Result<std::vector<std::string>>(st))
                        for (const auto& bytes : *list) handed(u, bytes, now);
                    break;
                case Pending::Kind::kOther:
                    break;
            }
        }
        c.pending = std::move(waiting);
        for (const auto& q : resend) send(q.index);
        if (!c.inbox.to_ack.empty()) {
            ask(u, "inbox.ack", {{"messages", c.inbox.to_ack}}, {});
            c.inbox.to_ack.clear();
        }
        if (now >= c.next_fetch) {
            ask(u, "inbox.fetch", {{"max", uint64_t{256}}}, {Pending::Kind::kFetch, 0, 0, {}});
            c.next_fetch = now + kFetchEvery;
        }
        return Status::ok();
    }

    // The measurement's own figures as time passes: traffic at its start,
    // each second and its end, the nodes running, the storage at its end.
    void account(SteadyTime now) {
        if (!measuring_ && now >= measure_from_) {
            measuring_ = true;
            at_measure_start_ = sim_.network().stats();
            bytes_at_sample_ = at_measure_start_.bytes_sent;
            next_sample_ = measure_from_ + seconds(1);
            meter_->begin(up_);
        }
        if (!measuring_) return;
        if (now >= next_sample_ && now <= measure_to_) {
            const uint64_t bytes = sim_.network().stats().bytes_sent;
            bytes_per_node_per_s_.push_back(static_cast<double>(bytes - bytes_at_sample_) / static_cast<double>(s_.nodes));
            bytes_at_sample_ = bytes;
            next_sample_ += seconds(1);
            meter_->read(up_);
        }
        if (now < measure_to_) up_sum_ += static_cast<double>(up_count()), ++up_samples_;
        if (now >= measure_to_ && !at_measure_end_) {
            at_measure_end_ = sim_.network().stats();
            sample_storage();
            meter_->read(up_);
            meter_->end();
        }
    }

    // Bytes each running node holds for the network at the end of the
    // measurement: its DHT's values (records with the DHT strategy, the
    // issuance logs with every strategy) and the strategy's records.
    void sample_storage() {
        for (size_t i = 0; i < s_.nodes; ++i) {
            if (!up_[i]) continue;
            uint64_t bytes = strategy_ ? strategy_->stored_bytes(i) : 0;
            if (Node* n = sim_.node(i); n && n->overlay()) bytes += n->overlay()->stats().bytes_stored;
            stored_bytes_.push_back(static_cast<double>(bytes));
        }
    }

    Result<SwarmTrial> finish(double mean_up) {
        const SteadyTime end = sim_.network().now();
        for (auto& op : operations_) {
            if (op.event.outcome.empty()) answered(op, end, "timeout");
            if (measured(op.started)) events_.push_back(op.event);
        }
        for (size_t i = 0; i < changes_.size(); ++i) {
            const PresenceChange& change = changes_[i];
            if (!measured(change.at)) continue;
            for (size_t k = 0; k < change.watchers.size(); ++k)
                record(change.at, static_cast<int64_t>(clients_[change.watchers[k]].node), static_cast<int64_t>(change.watchers[k]),
                       "presence", change.seen[k] ? "delivered" : "missed",
                       change.seen[k] ? duration<double, std::milli>(*change.seen[k] - change.at).count() : -1, i);
        }
        for (const auto& d : watch_->detections())
            if (measured(d.crashed))
                record(d.crashed, static_cast<int64_t>(d.node), -1, "detect", d.detected ? "ok" : "restarted-first",
                       d.detected ? duration<double, std::milli>(*d.detected - d.crashed).count() : -1);
        for (size_t i = 0; i < messages_.size(); ++i) {
            const Message& m = messages_[i];
            if (!measured(m.sent)) continue;
            const std::string outcome = m.delivered ? "delivered" : m.stored ? "lost" : "not-stored";
            record(m.sent, static_cast<int64_t>(clients_[m.from].node), static_cast<int64_t>(m.from), "message", outcome,
                   m.delivered ? duration<double, std::milli>(*m.delivered - m.sent).count() : -1);
        }
        std::stable_sort(events_.begin(), events_.end(), [](const SwarmEvent& a, const SwarmEvent& b) { return a.t_s < b.t_s; });
        SwarmTrial t;
        t.events = std::move(events_);
        t.nodes = s_.nodes;
        t.users = clients_.size();
        t.measure_s = s_.measure_s;
        const auto& until = at_measure_end_ ? *at_measure_end_ : sim_.network().stats();
        t.bytes_sent = until.bytes_sent - at_measure_start_.bytes_sent;
        t.datagrams_sent = until.datagrams_sent - at_measure_start_.datagrams_sent;
        t.datagrams_lost = until.datagrams_lost - at_measure_start_.datagrams_lost;
        t.mean_nodes_up = mean_up;
        t.false_alarms = watch_->false_alarms();
        t.alarm_pairs = watch_->pairs_looked_at();
        for (const auto& c : clients_) t.redelivered += c.inbox.repeats;
        t.bytes_per_node_per_s = std::move(bytes_per_node_per_s_);
        t.bytes_by_kind = meter_->totals();
        t.stored_bytes_per_node = std::move(stored_bytes_);
        t.digest = sim_.network().history_digest();
        return t;
    }

    const Scenario& s_;
    const uint64_t seed_;
    const std::filesystem::path dir_;
    const SwarmProgress& progress_;
    Rng rng_;
    SimNodes sim_;
    NodeConfig base_;
    std::vector<bool> up_;
    std::vector<Client> clients_;
    std::optional<Zipf> popular_;
    std::map<size_t, std::vector<size_t>> watchers_;  // user -> who watches them
    std::priority_queue<ChurnEvent> churn_;
    std::vector<size_t> flash_crowd_;  // the nodes away until the flash crowd
    SteadyTime flash_crowd_at_{};      // when they join
    bool flash_away_done_ = false;
    SteadyTime t0_{}, measure_from_{}, measure_to_{};
    std::array<SteadyTime, 4> next_{};  // the next resolve, vCard update, presence change, message
    std::vector<Operation> operations_;
    std::vector<Message> messages_;
    std::vector<PresenceChange> changes_;
    std::vector<SwarmEvent> events_;
    bool measuring_ = false;
    bool split_ = false, healed_ = false;
    double up_sum_ = 0;  // nodes running, summed over the measurement's steps
    size_t up_samples_ = 0;
    SteadyTime next_sample_{};
    uint64_t bytes_at_sample_ = 0;
    std::vector<double> bytes_per_node_per_s_;
    std::vector<double> stored_bytes_;
    double wall_founding_s_ = 0, wall_registering_s_ = 0;
    std::unique_ptr<RecordStrategy> strategy_;  // null: the DHT
    std::optional<FailureWatch> watch_;
    std::optional<TrafficMeter> meter_;
    SimNetwork::Stats at_measure_start_;
    std::optional<SimNetwork::Stats> at_measure_end_;
};

}  // namespace

Result<SwarmTrial> run_swarm_trial(const Scenario& scenario, size_t trial, const std::filesystem::path& dir,
                                   const SwarmProgress& progress) {
    Trial t(scenario, trial, dir, progress);
    return t.run();
}

}  // namespace dhtalk
