#include "sim/gossip_cluster.h"

#include <cstdio>

#include "crypto/signing.h"

namespace dhtalk {

using namespace std::chrono;

namespace {

std::string node_name(size_t i) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "%040zx", i + 1);  // shaped like a node id
    return buf;
}

size_t index_of(const std::string& id) { return std::stoul(id, nullptr, 16) - 1; }

constexpr int64_t kWallStartMs = 1'790'000'000'000;

}  // namespace

LinkConfig simulated_link(double loss, uint64_t seed, milliseconds median) {
    LinkConfig l;
    l.median_latency = median;
    l.loss = loss;
    l.seed = seed;
    return l;
}

// A keyed hash per node stands in for the nodes' Ed25519 signatures: as
// unforgeable within the simulation, and a thousand times cheaper.
class GossipCluster::Signer final : public PresenceSigner {
public:
    Signer(size_t nodes, uint64_t seed) {
        for (size_t i = 0; i < nodes; ++i) keys_.push_back(crypto::sha256("sim key " + std::to_string(seed) + "/" + std::to_string(i)));
    }
    // The cluster signs for the node whose core is running.
    void act_as(size_t i) { current_ = i; }
    std::string sign(std::string_view data) override { return crypto::sha256(keys_[current_] + std::string(data)); }
    bool verify(const std::string& node_id, std::string_view data, std::string_view signature) override {
        const size_t i = index_of(node_id);
        return i < keys_.size() && crypto::sha256(keys_[i] + std::string(data)) == signature;
    }

private:
    std::vector<std::string> keys_;
    size_t current_ = 0;
};

// Node i's place on the network.
class GossipCluster::Host final : public SimHost {
public:
    Host(GossipCluster& cluster, size_t i) : cluster_(cluster), i_(i) {}
    SteadyTime on_datagram(const uint8_t* data, size_t size, const dht::SockAddr& from, SteadyTime) override {
        if (!cluster_.up_[i_]) return SteadyTime::max();
        if (auto sender = cluster_.network_.host_at(from))
            cluster_.receive(i_, *sender, {reinterpret_cast<const char*>(data), size});
        return cluster_.after(i_);
    }
    SteadyTime on_wake(SteadyTime) override { return cluster_.up_[i_] ? cluster_.after(i_) : SteadyTime::max(); }

private:
    GossipCluster& cluster_;
    size_t i_;
};

GossipCluster::GossipCluster(size_t nodes, const SwimConfig& config, const LinkConfig& link, uint64_t seed,
                             const PresenceConfig& presence)
    : config_(config), seed_(seed), network_(link), start_(network_.now()), presence_config_(presence) {
    for (size_t i = 0; i < nodes; ++i) {
        ids_.push_back(node_name(i));
        network_.add_host();  // hosts are numbered as nodes: host(i) == i
        hosts_.push_back(std::make_unique<Host>(*this, i));
        network_.attach(host(i), hosts_.back().get());
    }
    signer_ = std::make_unique<Signer>(nodes, seed);
    nodes_.resize(nodes);
    presence_.resize(nodes);
    presence_bytes_.assign(nodes, 0);
    presence_bytes_in_.assign(nodes, 0);
    up_.assign(nodes, true);
    for (size_t i = 0; i < nodes; ++i) make_node(i, 0);
}

GossipCluster::~GossipCluster() {
    for (size_t i = 0; i < hosts_.size(); ++i) network_.attach(host(i), nullptr);
}

void GossipCluster::make_node(size_t i, uint64_t incarnation) {
    nodes_[i] = std::make_unique<Swim>(ids_[i], config_, seed_ * 1000003 + i * 7919 + incarnation, incarnation);
    nodes_[i]->set_members(ids_, now_time());
    presence_[i] = std::make_unique<PresenceChannel>(ids_[i], presence_config_, *signer_);
    presence_[i]->set_members(ids_, now_time());
    network_.wake_now(host(i));
}

milliseconds GossipCluster::now() const { return duration_cast<milliseconds>(now_time() - start_); }
int64_t GossipCluster::wall_ms() const { return kWallStartMs + now().count(); }

void GossipCluster::set_partition(std::function<bool(size_t, size_t)> blocked) {
    if (!blocked) return network_.set_partition(nullptr);
    network_.set_partition([blocked = std::move(blocked)](SimNetwork::HostId a, SimNetwork::HostId b) {
        return blocked(a, b);
    });
}

void GossipCluster::route(size_t i, std::vector<SwimDatagram> datagrams, Channel channel) {
    for (auto& d : datagrams) {
        sent_++;
        bytes_ += d.bytes.size() + 1;
        if (channel == kPresence) presence_bytes_[i] += d.bytes.size() + 1;
        const size_t to = index_of(d.to);
        if (to >= nodes_.size()) continue;
        const std::string tagged = static_cast<char>(channel) + std::move(d.bytes);
        network_.send(host(i), network_.address(host(to)), reinterpret_cast<const uint8_t*>(tagged.data()),
                      tagged.size());
    }
}

void GossipCluster::flush(size_t i) {
    // Membership news drives presence, as in a node.
    bool changed = false;
    for (auto& e : nodes_[i]->take_events()) {
        if (e.state == MemberState::kDead) presence_[i]->member_dead(e.id, wall_ms());
        changed = true;
        history_.push_back({i, std::move(e)});
    }
    if (changed) presence_[i]->set_members(nodes_[i]->live_members(), now_time());
    route(i, nodes_[i]->take_outgoing(), kMembership);
    route(i, presence_[i]->take_outgoing(), kPresence);
    for (auto& d : presence_[i]->take_deliveries()) delivered_.push_back({i, now(), std::move(d)});
}

void GossipCluster::receive(size_t i, size_t from, std::string_view bytes) {
    if (bytes.empty()) return;
    // Refusals are the cores' to count; tests look at outcomes.
    signer_->act_as(i);
    const std::string_view body = bytes.substr(1);
    if (bytes[0] == kMembership) {
        nodes_[i]->on_datagram(ids_[from], body, now_time()).ignore_error();
    } else {
        presence_bytes_in_[i] += bytes.size();
        presence_[i]->on_datagram(ids_[from], body, now_time()).ignore_error();
    }
}

SteadyTime GossipCluster::after(size_t i) {
    signer_->act_as(i);
    const auto next = std::min(nodes_[i]->tick(now_time()), presence_[i]->tick(now_time()));
    flush(i);
    return next;
}

void GossipCluster::inject(size_t from, size_t to, std::string bytes, Channel channel) {
    const std::string tagged = static_cast<char>(channel) + std::move(bytes);
    network_.inject(host(from), host(to), reinterpret_cast<const uint8_t*>(tagged.data()), tagged.size());
}

void GossipCluster::login(size_t i, const std::string& user, bool without_list) {
    signer_->act_as(i);
    presence_[i]->login(user, now_time(), wall_ms());
    if (!without_list) presence_[i]->set_privacy(user, privacy_[user], now_time());
    network_.wake_at(host(i), after(i));
}

void GossipCluster::logout(size_t i, const std::string& user) {
    signer_->act_as(i);
    presence_[i]->logout(user, now_time(), wall_ms());
    network_.wake_at(host(i), after(i));
}

Status GossipCluster::set_presence(size_t i, const std::string& user, const std::string& show, const std::string& status) {
    signer_->act_as(i);
    Status s = presence_[i]->set(user, show, status, now_time(), wall_ms());
    network_.wake_at(host(i), after(i));
    return s;
}

void GossipCluster::watch(size_t i, const std::string& watcher, const std::string& target) {
    signer_->act_as(i);
    presence_[i]->watch(watcher, target, now_time()).ignore_error();  // bounded far above what tests watch
    network_.wake_at(host(i), after(i));
}

void GossipCluster::set_privacy(size_t i, const std::string& user, PrivacyList list) {
    signer_->act_as(i);
    privacy_[user] = list;
    presence_[i]->set_privacy(user, std::move(list), now_time());
    network_.wake_at(host(i), after(i));
}

void GossipCluster::stop(size_t i) {
    up_[i] = false;
    network_.set_down(host(i), true);
}

void GossipCluster::restart(size_t i) {
    up_[i] = true;
    network_.set_down(host(i), false);
    make_node(i, static_cast<uint64_t>(now().count()) + 1);
}

void GossipCluster::run_until(milliseconds t) { network_.run_until(start_ + t); }

}  // namespace dhtalk
