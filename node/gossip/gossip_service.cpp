#include "node/gossip/gossip_service.h"

#include "common/log.h"
#include "crypto/fast_key.h"
#include "crypto/signing.h"
#include "common/host_port.h"

namespace dhtalk {

using namespace std::chrono;

namespace {

constexpr size_t kMaxInbox = 10000;
enum Channel : uint8_t { kMembership = 1, kPresence = 2 };

}  // namespace

class GossipService::Signer final : public PresenceSigner {
public:
    Signer(const crypto::NodeIdentity& identity, std::shared_ptr<MemberDirectory> members)
        : identity_(identity), members_(std::move(members)) {}
    // With the fast key: the RSA identity cost about 3 ms per presence.
    std::string sign(std::string_view data) override {
        auto s = crypto::sign(*identity_.fast_key, data);
        return s ? *s : std::string();  // an empty signature is refused by every receiver
    }
    bool verify(const std::string& node_id, std::string_view data, std::string_view signature) override {
        return crypto::verify_fast(members_->fast_key(node_id), data, signature);
    }

private:
    const crypto::NodeIdentity& identity_;
    std::shared_ptr<MemberDirectory> members_;
};

GossipService::GossipService(GossipServiceConfig config, const crypto::NodeIdentity& identity,
                             std::shared_ptr<MemberDirectory> members, uint64_t incarnation, const Clock& clock,
                             Drivers& drivers)
    : config_(config),
      signer_(std::make_unique<Signer>(identity, std::move(members))),
      clock_(clock),
      swim_(identity.node_id_hex(), config.swim, incarnation ^ 0x9e3779b97f4a7c15ull, incarnation),
      presence_(identity.node_id_hex(), config.presence, *signer_),
      drive_(drivers.start("gossip", [this](SteadyTime now) { return turn(now); })) {}

GossipService::~GossipService() { drive_.reset(); }  // waits for a running turn

int64_t GossipService::wall_ms() const { return to_unix_millis(clock_.wall_now()); }

void GossipService::attach(GossipSocket* socket) {
    socket->set_handler([this](uint8_t channel, std::string_view bytes, const dht::SockAddr& from) {
        std::lock_guard lock(mutex_);
        if (inbox_.size() >= kMaxInbox) return;  // overloaded: membership and anti-entropy recover
        inbox_.push_back({channel, std::string(bytes), from.toString()});
        drive_->wake();
    });
    std::lock_guard lock(mutex_);
    socket_ = socket;
}

void GossipService::detach() {
    GossipSocket* socket;
    {
        std::lock_guard lock(mutex_);
        socket = socket_;
        socket_ = nullptr;
    }
    if (socket) socket->set_handler(nullptr);
}

void GossipService::set_members(const std::map<std::string, std::vector<std::string>>& endpoints) {
    std::map<std::string, dht::SockAddr> addresses;
    std::map<std::string, std::string> members;
    std::vector<std::string> ids;
    for (const auto& [id, list] : endpoints) {
        ids.push_back(id);
        for (const auto& e : list) {
            auto hp = parse_host_port(e);
            if (!hp) continue;
            auto resolved = dht::SockAddr::resolve(hp->first, std::to_string(hp->second));
            if (resolved.empty()) continue;
            addresses.emplace(id, resolved.front());
            members[resolved.front().toString()] = id;
        }
    }
    {
        std::lock_guard lock(mutex_);
        address_of_ = std::move(addresses);
        member_at_ = std::move(members);
        swim_.set_members(ids, clock_.now());
        presence_.set_members(swim_.live_members(), clock_.now());
    }
    drive_->wake();
}

void GossipService::set_load(uint32_t sessions, uint32_t capacity) {
    std::lock_guard lock(mutex_);
    swim_.set_load(sessions, capacity);
}

void GossipService::flush(std::vector<PresenceDelivery>& deliveries) {
    const auto events = swim_.take_events();
    for (const auto& e : events) {
        DHTALK_LOG(kInfo, "members", "node " << e.id << " is " << member_state_name(e.state));
        if (e.state == MemberState::kDead) presence_.member_dead(e.id, wall_ms());
    }
    if (!events.empty()) presence_.set_members(swim_.live_members(), clock_.now());
    auto send_all = [&](std::vector<SwimDatagram> out, uint8_t channel) {
        if (!socket_) return;
        for (const auto& d : out) {
            auto a = address_of_.find(d.to);
            if (a == address_of_.end()) continue;
            socket_->send_gossip(a->second, channel, d.bytes);
            (channel == kMembership ? membership_bytes_out_ : presence_bytes_out_) += d.bytes.size();
        }
    };
    send_all(swim_.take_outgoing(), kMembership);
    send_all(presence_.take_outgoing(), kPresence);
    for (auto& d : presence_.take_deliveries()) deliveries.push_back(std::move(d));
}

void GossipService::finish(std::vector<PresenceDelivery>& deliveries,
                             std::vector<std::pair<PendingGet, std::optional<Presence>>>& done) {
    if (!deliveries.empty()) {
        // Held while the callback runs, so that on_delivery() returns only
        // once no thread is still inside the callback it replaces.
        std::lock_guard lock(delivery_mutex_);
        for (const auto& d : deliveries)
            if (on_delivery_) on_delivery_(d);
    }
    for (auto& [get, result] : done) get.done(result);
}

SteadyTime GossipService::turn(SteadyTime now) {
    std::unique_lock lock(mutex_);
    while (!inbox_.empty()) {
        Inbound in = std::move(inbox_.front());
        inbox_.pop_front();
        // Each datagram speaks for the member at its source address.
        auto who = member_at_.find(in.from);
        if (who == member_at_.end()) continue;
        if (in.channel == kMembership) {
            swim_.on_datagram(who->second, in.bytes, now).ignore_error();  // refusals change nothing; not worth a log line each
        } else if (in.channel == kPresence) {
            Status s = presence_.on_datagram(who->second, in.bytes, now);
            if (!s) DHTALK_LOG(kDebug, "presence", "refused a datagram from " << in.from << ": " << s.message());
        }
    }
    SteadyTime next = std::min(swim_.tick(now), presence_.tick(now));
    std::vector<PresenceDelivery> deliveries;
    flush(deliveries);
    // One-off gets: answered by a delivery, or by the deadline.
    std::vector<std::pair<PendingGet, std::optional<Presence>>> done;
    for (auto it = gets_.begin(); it != gets_.end();) {
        bool answered = false;
        for (const auto& d : deliveries)
            if (d.watcher == it->watcher && d.presence.user_id == it->target) answered = true;
        if (answered || now >= it->deadline) {
            auto p = answered ? presence_.presence_for(it->watcher, it->target) : std::optional<Presence>();
            presence_.unwatch(it->watcher, it->target);  // the get's hold
            done.push_back({std::move(*it), p});
            it = gets_.erase(it);
        } else {
            next = std::min(next, it->deadline);
            ++it;
        }
    }
    lock.unlock();
    finish(deliveries, done);
    return next;
}

template <class Action>
auto GossipService::act(Action action) {
    // Calls into the cores under the lock, sends what they produced, then
    // hands out deliveries with no lock held.
    std::vector<PresenceDelivery> deliveries;
    std::vector<std::pair<PendingGet, std::optional<Presence>>> none;
    std::unique_lock lock(mutex_);
    auto result = action();
    flush(deliveries);
    lock.unlock();
    finish(deliveries, none);
    return result;
}

void GossipService::login(const std::string& user) {
    act([&] { presence_.login(user, clock_.now(), wall_ms()); return 0; });
}

void GossipService::logout(const std::string& user) {
    act([&] { presence_.logout(user, clock_.now(), wall_ms()); return 0; });
}

void GossipService::logout_all() {
    act([&] { presence_.logout_all(clock_.now(), wall_ms()); return 0; });
}

Status GossipService::set(const std::string& user, const std::string& show, const std::string& status) {
    return act([&] { return presence_.set(user, show, status, clock_.now(), wall_ms()); });
}

void GossipService::set_privacy(const std::string& user, PrivacyList list) {
    act([&] { presence_.set_privacy(user, std::move(list), clock_.now()); return 0; });
}

Status GossipService::watch(const std::string& watcher, const std::string& target) {
    return act([&] { return presence_.watch(watcher, target, clock_.now()); });
}

void GossipService::unwatch(const std::string& watcher, const std::string& target) {
    std::lock_guard lock(mutex_);
    presence_.unwatch(watcher, target);
}

void GossipService::get(const std::string& watcher, const std::string& target,
                          std::function<void(std::optional<Presence>)> done) {
    std::optional<Presence> known;
    {
        std::lock_guard lock(mutex_);
        if (presence_.watching(watcher, target)) known = presence_.presence_for(watcher, target);
        if (!known) {
            // Watch it for a moment: the host answers a new subscription at once.
            if (presence_.watch(watcher, target, clock_.now())) {  // a hold of the get's own
                gets_.push_back({watcher, target, clock_.now() + config_.get_timeout, std::move(done)});
                drive_->wake();
                return;
            }  // a watcher at its bound gets no answer
        }
    }
    done(known);
}

void GossipService::on_delivery(std::function<void(const PresenceDelivery&)> callback) {
    std::lock_guard lock(delivery_mutex_);
    on_delivery_ = std::move(callback);
}

GossipServiceStats GossipService::stats() const {
    std::lock_guard lock(mutex_);
    GossipServiceStats s;
    for (const auto& m : swim_.members()) {
        if (m.state == MemberState::kAlive) s.members_alive++;
        else if (m.state == MemberState::kSuspect) s.members_suspect++;
        else s.members_dead++;
    }
    s.presence_sent = presence_.counters().presence_sent;
    s.presence_received = presence_.counters().presence_received;
    s.refused = presence_.counters().refused;
    s.membership_bytes_out = membership_bytes_out_;
    s.presence_bytes_out = presence_bytes_out_;
    return s;
}

std::vector<MemberView> GossipService::members() const {
    std::lock_guard lock(mutex_);
    return swim_.members();
}

std::chrono::milliseconds GossipService::detection_bound() const {
    std::lock_guard lock(mutex_);
    return swim_.detection_bound();
}

}  // namespace dhtalk
