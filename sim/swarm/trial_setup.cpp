// The trial's network: its nodes founded, their links shaped and cut,
// the users registered and logged in.
#include "sim/swarm/trial.h"

#include <set>

#include "crypto/node_identity.h"
#include "crypto/user_certificate.h"

namespace dhtalk::swarm {

using namespace std::chrono;

SimNodesConfig Trial::sim_config() const {
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

// The nodes, founded and admitted by vote (or from the roster a vote
// would make), with identities made from the seed.
Status Trial::found() {
    if (progress_) progress_("founding", 0, 0);
    base_.network = "swarm";
    base_.roster_interval = seconds(1);
    base_.persist_interval = seconds(30);
    // Every simulated host is 127.0.0.1: OpenDHT's limit per address
    // would count the whole network as one peer.
    base_.dht_requests_per_address = 0;
    base_.presence_directory_replicas = static_cast<unsigned>(s_.presence_directory_replicas);
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
    queues_.emplace(s_.nodes);
    DHTALK_TRY(shape_links());
    up_.assign(s_.nodes, true);
    if (strategy_)
        for (size_t i = 0; i < s_.nodes; ++i) strategy_->started(i);
    sim_.network().run_for(kSettle);
    return Status::ok();
}

// Regions and uplink caps, from the end of founding on (founding is
// not measured): node i and its strategy host are in region i % regions.
Status Trial::shape_links() {
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

std::vector<SimNetwork::HostId> Trial::node_hosts(size_t i) const {
    std::vector<SimNetwork::HostId> hosts{sim_.host(i)};
    if (strategy_) hosts.push_back(strategy_->host(i));
    return hosts;
}

// The partition: `partition_share` of the nodes (drawn then) cut off
// from the rest from partition.at-s into the measurement, for heal-s.
void Trial::partition(SteadyTime now) {
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

Status Trial::register_users() {
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
Status Trial::log_in(size_t u, size_t node) {
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

}  // namespace dhtalk::swarm
