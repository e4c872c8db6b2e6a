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

// A keyed hash per node stands in for the nodes' RSA signatures: as
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

GossipCluster::GossipCluster(size_t nodes, const SwimConfig& config, const LinkConfig& link, uint64_t seed,
                             const PresenceConfig& presence)
    : config_(config), link_(link), seed_(seed), presence_config_(presence) {
    for (size_t i = 0; i < nodes; ++i) ids_.push_back(node_name(i));
    signer_ = std::make_unique<Signer>(nodes, seed);
    nodes_.resize(nodes);
    presence_.resize(nodes);
    presence_bytes_.assign(nodes, 0);
    presence_bytes_in_.assign(nodes, 0);
    up_.assign(nodes, true);
    generation_.assign(nodes, 0);
    extra_delay_.assign(nodes, milliseconds(0));
    for (size_t i = 0; i < nodes; ++i) make_node(i, 0);
}

GossipCluster::~GossipCluster() = default;

void GossipCluster::make_node(size_t i, uint64_t incarnation) {
    nodes_[i] = std::make_unique<Swim>(ids_[i], config_, seed_ * 1000003 + i * 7919 + incarnation, incarnation);
    nodes_[i]->set_members(ids_, now_);
    presence_[i] = std::make_unique<PresenceChannel>(ids_[i], presence_config_, *signer_);
    presence_[i]->set_members(ids_, now_);
    generation_[i]++;
    schedule_wake(i, now_);
}

milliseconds GossipCluster::now() const { return duration_cast<milliseconds>(now_ - start_); }
int64_t GossipCluster::wall_ms() const { return kWallStartMs + now().count(); }

void GossipCluster::schedule_wake(size_t i, SteadyTime at) {
    queue_.push({at, order_++, i, true, generation_[i], 0, {}});
}

void GossipCluster::route(size_t i, std::vector<SwimDatagram> datagrams, Channel channel) {
    for (auto& d : datagrams) {
        sent_++;
        bytes_ += d.bytes.size() + 1;
        if (channel == kPresence) presence_bytes_[i] += d.bytes.size() + 1;
        const size_t to = index_of(d.to);
        if (to >= nodes_.size()) continue;
        auto fate = link_.fate();
        if (!fate || (blocked_ && blocked_(i, to))) continue;
        const auto at = now_ + *fate + extra_delay_[i] + extra_delay_[to];
        queue_.push({at, order_++, to, false, 0, i, static_cast<char>(channel) + std::move(d.bytes)});
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
    if (changed) presence_[i]->set_members(nodes_[i]->live_members(), now_);
    route(i, nodes_[i]->take_outgoing(), kMembership);
    route(i, presence_[i]->take_outgoing(), kPresence);
    for (auto& d : presence_[i]->take_deliveries()) delivered_.push_back({i, now(), std::move(d)});
}

void GossipCluster::after(size_t i) {
    signer_->act_as(i);
    const auto next = std::min(nodes_[i]->tick(now_), presence_[i]->tick(now_));
    flush(i);
    generation_[i]++;
    schedule_wake(i, next);
}

void GossipCluster::inject(size_t from, size_t to, std::string bytes, Channel channel) {
    queue_.push({now_, order_++, to, false, 0, from, static_cast<char>(channel) + std::move(bytes)});
}

void GossipCluster::login(size_t i, const std::string& user, bool without_list) {
    signer_->act_as(i);
    presence_[i]->login(user, now_, wall_ms());
    if (!without_list) presence_[i]->set_privacy(user, privacy_[user], now_);
    after(i);
}

void GossipCluster::logout(size_t i, const std::string& user) {
    signer_->act_as(i);
    presence_[i]->logout(user, now_, wall_ms());
    after(i);
}

Status GossipCluster::set_presence(size_t i, const std::string& user, const std::string& show, const std::string& status) {
    signer_->act_as(i);
    Status s = presence_[i]->set(user, show, status, now_, wall_ms());
    after(i);
    return s;
}

void GossipCluster::watch(size_t i, const std::string& watcher, const std::string& target) {
    signer_->act_as(i);
    presence_[i]->watch(watcher, target, now_).ignore_error();  // bounded far above what tests watch
    after(i);
}

void GossipCluster::set_privacy(size_t i, const std::string& user, PrivacyList list) {
    signer_->act_as(i);
    privacy_[user] = list;
    presence_[i]->set_privacy(user, std::move(list), now_);
    after(i);
}

void GossipCluster::stop(size_t i) {
    up_[i] = false;
    generation_[i]++;
}

void GossipCluster::restart(size_t i) {
    up_[i] = true;
    make_node(i, static_cast<uint64_t>(duration_cast<milliseconds>(now_ - start_).count()) + 1);
}

void GossipCluster::run_until(milliseconds t) {
    const SteadyTime end = start_ + t;
    while (!queue_.empty() && queue_.top().at <= end) {
        Event e = queue_.top();
        queue_.pop();
        now_ = std::max(now_, e.at);
        if (!up_[e.node]) continue;
        if (e.wake) {
            if (e.generation != generation_[e.node]) continue;  // superseded
        } else if (!e.bytes.empty()) {
            // Refusals are the cores' to count; tests look at outcomes.
            signer_->act_as(e.node);
            const std::string_view body = std::string_view(e.bytes).substr(1);
            if (e.bytes[0] == kMembership) nodes_[e.node]->on_datagram(ids_[e.from], body, now_).ignore_error();
            else {
                presence_bytes_in_[e.node] += e.bytes.size();
                presence_[e.node]->on_datagram(ids_[e.from], body, now_).ignore_error();
            }
        }
        after(e.node);
    }
    now_ = std::max(now_, end);
}

}  // namespace dhtalk
