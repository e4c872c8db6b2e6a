#include "node/gossip/swim.h"

#include <algorithm>
#include <cmath>

#include "common/msgpack_io.h"

namespace dhtalk {

using namespace std::chrono;

namespace {

constexpr uint32_t kSwimVersion = 1;
constexpr size_t kMaxIdBytes = 64;
constexpr size_t kMaxUpdates = 32;

msgpack::unpack_limit swim_limit() {
    return msgpack::unpack_limit(/*array*/ kMaxUpdates, /*map*/ 0, /*str*/ kMaxIdBytes, /*bin*/ 0, /*ext*/ 0,
                                 /*depth*/ 3);
}

}  // namespace

const char* member_state_name(MemberState s) {
    switch (s) {
    case MemberState::kAlive: return "alive";
    case MemberState::kSuspect: return "suspect";
    case MemberState::kDead: return "dead";
    }
    return "unknown";
}

Swim::Swim(std::string self, SwimConfig config, uint64_t seed, uint64_t incarnation)
    : self_(std::move(self)), config_(config), rng_(seed), incarnation_(incarnation), first_incarnation_(incarnation) {}

uint64_t Swim::incarnation_ceiling(SteadyTime now) {
    if (!origin_) origin_ = now;
    const auto elapsed = duration_cast<milliseconds>(now - *origin_) + kIncarnationSkew;
    return first_incarnation_ + static_cast<uint64_t>(std::max<int64_t>(elapsed.count(), 0));
}

void Swim::set_members(const std::vector<std::string>& ids, SteadyTime now) {
    if (!origin_) origin_ = now;
    std::map<std::string, Member> next;
    for (const auto& id : ids) {
        if (id == self_) continue;
        auto it = members_.find(id);
        next[id] = it != members_.end() ? it->second : Member{};
    }
    members_ = std::move(next);
    suspects_.clear();
    for (const auto& [id, m] : members_)
        if (m.state == MemberState::kSuspect) suspects_.insert(id);
    order_.clear();
    for (const auto& [id, m] : members_) order_.push_back(id);
    shuffle(order_);
    next_in_order_ = 0;
    if (probe_ && !members_.count(probe_->target)) probe_.reset();
    if (!started_) {
        // Say we are alive (a restarted node comes back with a higher
        // incarnation), and spread the first probes of nodes that start
        // together over a period.
        broadcast({self_, MemberState::kAlive, incarnation_, "", 0});
        next_period_ = now + milliseconds(rng_.uniform(static_cast<uint64_t>(config_.period.count()) + 1));
        started_ = true;
    }
}

void Swim::shuffle(std::vector<std::string>& ids) {
    for (size_t i = ids.size(); i > 1; --i) std::swap(ids[i - 1], ids[rng_.uniform(i)]);
}

void Swim::set_load(uint32_t sessions, uint32_t capacity) {
    sessions_ = sessions;
    capacity_ = capacity;
}

unsigned Swim::retransmit_limit() const {
    const double n = static_cast<double>(members_.size() + 1);
    return std::max(3u, static_cast<unsigned>(std::ceil(config_.retransmit_mult * std::log10(n + 1))));
}

milliseconds Swim::suspicion_timeout(const Member& m) const {
    const double n = static_cast<double>(std::max<size_t>(members_.size() + 1, 2));
    const double min_ms = config_.suspicion_alpha * std::max(1.0, std::log10(n)) * static_cast<double>(config_.period.count());
    const double max_ms = config_.suspicion_beta * min_ms;
    const double k = static_cast<double>(std::max(1u, config_.suspicion_confirmations));
    const double c = static_cast<double>(std::min<size_t>(m.accusers.size() ? m.accusers.size() - 1 : 0, config_.suspicion_confirmations));
    const double t = std::max(min_ms, max_ms - (max_ms - min_ms) * std::log(c + 1) / std::log(k + 1));
    return milliseconds(static_cast<int64_t>(t));
}

milliseconds Swim::detection_bound() const {
    Member fresh;
    fresh.accusers.insert(self_);
    // Probed by someone within a period or two, the probe itself, the news of
    // the suspicion spreading (log2 n periods), then the longest suspicion.
    const double n = static_cast<double>(members_.size() + 1);
    const auto spread = static_cast<int64_t>(std::ceil(std::log2(n + 1)));
    return scaled(config_.period) * (2 + spread) + suspicion_timeout(fresh);
}

std::vector<std::string> Swim::live_others(const std::string& except) const {
    std::vector<std::string> out;
    for (const auto& [id, m] : members_)
        if (id != except && m.state != MemberState::kDead) out.push_back(id);
    return out;
}

void Swim::broadcast(Update u) {
    u.sent = 0;
    // One pending update per member: the newest replaces older news.
    auto it = std::find_if(broadcasts_.begin(), broadcasts_.end(), [&](const Update& b) { return b.id == u.id; });
    if (it != broadcasts_.end()) *it = std::move(u);
    else broadcasts_.push_back(std::move(u));
}

void Swim::send(const std::string& to, Kind kind, uint64_t seq, const std::string& target) {
    // Least-sent updates first, so news spreads before repeats.
    std::stable_sort(broadcasts_.begin(), broadcasts_.end(), [](const Update& a, const Update& b) { return a.sent < b.sent; });
    const unsigned limit = retransmit_limit();
    msgpack::sbuffer buf;
    MsgpackPacker pk(buf);
    const size_t count = std::min(broadcasts_.size(), config_.max_piggyback);
    pk.pack_array(9);
    pk.pack(kSwimVersion);
    pk.pack(static_cast<uint8_t>(kind));
    pack_str(pk, self_);
    pk.pack(incarnation_);
    pk.pack(seq);
    pack_str(pk, target);
    pk.pack(sessions_);
    pk.pack(capacity_);
    pk.pack_array(static_cast<uint32_t>(count));
    for (size_t i = 0; i < count; ++i) {
        Update& u = broadcasts_[i];
        pk.pack_array(4);
        pack_str(pk, u.id);
        pk.pack(static_cast<uint8_t>(u.state));
        pk.pack(u.incarnation);
        pack_str(pk, u.accuser);
        u.sent++;
    }
    broadcasts_.erase(std::remove_if(broadcasts_.begin(), broadcasts_.end(),
                                     [limit](const Update& u) { return u.sent >= limit; }),
                      broadcasts_.end());
    outgoing_.push_back({to, std::string(buf.data(), buf.size())});
}

void Swim::set_state(const std::string& id, Member& m, MemberState s, uint64_t inc, SteadyTime now) {
    const bool changed = m.state != s;
    m.state = s;
    m.incarnation = inc;
    if (s != MemberState::kSuspect) m.accusers.clear();
    if (s == MemberState::kSuspect) suspects_.insert(id);
    else suspects_.erase(id);
    if (s == MemberState::kSuspect && changed) m.suspected_at = now;
    if (changed) events_.push_back({id, s, now});
}

void Swim::apply(const Update& u, SteadyTime now) {
    if (u.id == self_) {
        // News of our own suspicion or death: refute it with a higher incarnation.
        if (u.state != MemberState::kAlive && u.incarnation >= incarnation_) {
            incarnation_ = u.incarnation + 1;
            broadcast({self_, MemberState::kAlive, incarnation_, "", 0});
        }
        return;
    }
    auto it = members_.find(u.id);
    if (it == members_.end()) return;  // not a member: ignored
    Member& m = it->second;
    switch (u.state) {
    case MemberState::kAlive:
        if (u.incarnation > m.incarnation) {
            set_state(u.id, m, MemberState::kAlive, u.incarnation, now);
            broadcast(u);
        }
        break;
    case MemberState::kSuspect:
        if (m.state == MemberState::kDead || u.incarnation < m.incarnation) break;
        if (m.state == MemberState::kAlive || u.incarnation > m.incarnation) {
            set_state(u.id, m, MemberState::kSuspect, u.incarnation, now);
            if (!u.accuser.empty()) m.accusers.insert(u.accuser);
            broadcast(u);
        } else if (!u.accuser.empty() && m.accusers.size() <= config_.suspicion_confirmations &&
                   m.accusers.insert(u.accuser).second) {
            broadcast(u);  // an independent confirmation: pass it on
        }
        break;
    case MemberState::kDead:
        if (m.state != MemberState::kDead && u.incarnation >= m.incarnation) {
            set_state(u.id, m, MemberState::kDead, u.incarnation, now);
            broadcast(u);
        }
        break;
    }
}

Status Swim::on_datagram(const std::string& sender_id, std::string_view bytes, SteadyTime now) {
    if (bytes.size() > kMaxSwimDatagram) return Status::corruption("a membership datagram over the size bound");
    Kind kind;
    std::string from, target;
    uint64_t seq, from_incarnation;
    uint32_t sessions, capacity;
    std::vector<Update> updates;
    try {
        auto h = unpack_whole(bytes.data(), bytes.size(), swim_limit(), "membership datagram");
        const auto& o = h.get();
        if (o.type != msgpack::type::ARRAY || o.via.array.size != 9 || o.via.array.ptr[0].type != msgpack::type::POSITIVE_INTEGER ||
            o.via.array.ptr[0].via.u64 != kSwimVersion)
            return Status::corruption("not a membership datagram of version 1");
        Fields f(o, 9, "membership datagram");
        f.next();
        const uint64_t k = f.uint(4);
        if (k < 1) f.fail("a message kind");
        kind = static_cast<Kind>(k);
        from = f.str(kMaxIdBytes);
        from_incarnation = f.uint(UINT64_MAX);
        seq = f.uint(UINT64_MAX);
        target = f.str(kMaxIdBytes);
        sessions = static_cast<uint32_t>(f.uint(UINT32_MAX));
        capacity = static_cast<uint32_t>(f.uint(UINT32_MAX));
        for (const auto& e : f.array(kMaxUpdates)) {
            Fields uf(e, 4, "membership update");
            Update u;
            u.id = uf.str(kMaxIdBytes);
            u.state = static_cast<MemberState>(uf.uint(2));
            u.incarnation = uf.uint(UINT64_MAX);
            u.accuser = uf.str(kMaxIdBytes);
            updates.push_back(std::move(u));
        }
    } catch (const DecodeError& e) {
        return Status::corruption(e.what);
    } catch (const std::exception& e) {
        return Status::corruption(std::string("a membership datagram is not valid msgpack: ") + e.what());
    }
    if (from != sender_id)
        return Status::denied("a membership datagram from " + sender_id + " that speaks for " + from);
    auto sender = members_.find(from);
    if (sender == members_.end()) return Status::denied("a membership datagram from " + from + ", not a member");
    const uint64_t ceiling = incarnation_ceiling(now);
    if (from_incarnation > ceiling) return Status::denied("a membership datagram with an incarnation beyond the bound");
    sender->second.sessions = sessions;
    sender->second.capacity = capacity;
    if (from_incarnation > sender->second.incarnation) {
        apply({from, MemberState::kAlive, from_incarnation, "", 0}, now);  // it speaks, at a newer incarnation
    } else if (sender->second.state != MemberState::kAlive) {
        // A member we hold suspect or dead talks to us and may not know it
        // (a partition, a restart): tell it, on the ack below or on a ping,
        // so that it refutes.
        broadcast({from, MemberState::kSuspect, sender->second.incarnation, self_, 0});
        if (kind != Kind::kPing) send(from, Kind::kPing, next_seq_++, "");
    }
    for (auto& u : updates) {
        // An update beyond the bound is dropped alone: refusing the whole
        // datagram would let one relayed forgery cost its carrier its acks.
        if (u.incarnation > ceiling) continue;
        if (u.state == MemberState::kSuspect && u.accuser.empty()) continue;
        // Another node's "dead" is only an accusation: each node declares a
        // member dead by its own suspicion timer, so a member that accuses
        // everyone cannot kill anyone faster than they can refute.
        if (u.state == MemberState::kDead) {
            u.state = MemberState::kSuspect;
            u.accuser = from;
        }
        apply(u, now);
    }

    switch (kind) {
    case Kind::kPing:
        send(from, Kind::kAck, seq, "");
        break;
    case Kind::kPingReq: {
        if (!members_.count(target) || target == from) break;
        const uint64_t mine = next_seq_++;
        relays_[mine] = Relay{from, seq, now + scaled(config_.probe_timeout) * 8 / 10, false};
        send(target, Kind::kPing, mine, "");
        break;
    }
    case Kind::kAck:
        if (probe_ && seq == probe_->seq && (from == probe_->target || target == probe_->target)) {
            if (!probe_->acked) lower_health();
            probe_->acked = true;
        } else if (auto r = relays_.find(seq); r != relays_.end()) {
            send(r->second.requester, Kind::kAck, r->second.requester_seq, from);
            relays_.erase(r);
        }
        break;
    case Kind::kNack:
        if (probe_ && seq == probe_->seq) probe_->nacked = true;
        break;
    }
    return Status::ok();
}

void Swim::start_probe(SteadyTime now) {
    // Round-robin over a shuffled order, skipping the dead; reshuffled each round.
    for (size_t tries = 0; tries <= order_.size(); ++tries) {
        if (next_in_order_ >= order_.size()) {
            shuffle(order_);
            next_in_order_ = 0;
        }
        if (order_.empty()) return;
        const std::string& id = order_[next_in_order_++];
        auto it = members_.find(id);
        if (it == members_.end()) continue;
        // The dead are probed too (without helpers), so that a member that
        // comes back after a crash or a partition is found again.
        const bool dead = it->second.state == MemberState::kDead;
        probe_ = Probe{id, next_seq_++, now + scaled(config_.probe_timeout), dead, false, false};
        send(id, Kind::kPing, probe_->seq, "");
        return;
    }
}

void Swim::end_probe(SteadyTime now) {
    if (!probe_) return;
    auto it = members_.find(probe_->target);
    const bool was_dead = it == members_.end() || it->second.state == MemberState::kDead;
    if (!probe_->acked && !was_dead) {
        // Lifeguard: with no ack and not even a nack from the helpers, the
        // fault may be ours: trust ourselves a little less.
        raise_health();
        if (probe_->indirect_sent && !probe_->nacked) raise_health();
        if (it != members_.end() && it->second.state == MemberState::kAlive) {
            Update u{probe_->target, MemberState::kSuspect, it->second.incarnation, self_, 0};
            apply(u, now);
        } else if (it != members_.end() && it->second.state == MemberState::kSuspect &&
                   it->second.accusers.insert(self_).second) {
            broadcast({probe_->target, MemberState::kSuspect, it->second.incarnation, self_, 0});
        }
    }
    probe_.reset();
}

SteadyTime Swim::tick(SteadyTime now) {
    if (!origin_) origin_ = now;
    if (!started_) return now + config_.period;
    if (now >= next_period_) {
        end_probe(now);
        start_probe(now);
        next_period_ = now + scaled(config_.period);
    }
    if (probe_ && !probe_->acked && !probe_->indirect_sent && now >= probe_->direct_deadline) {
        probe_->indirect_sent = true;
        auto helpers = live_others(probe_->target);
        shuffle(helpers);
        helpers.resize(std::min<size_t>(helpers.size(), config_.indirect_probes));
        for (const auto& h : helpers) send(h, Kind::kPingReq, probe_->seq, probe_->target);
    }
    for (auto it = relays_.begin(); it != relays_.end();) {
        if (!it->second.nack_sent && now >= it->second.nack_at) {
            send(it->second.requester, Kind::kNack, it->second.requester_seq, "");
            it->second.nack_sent = true;
        }
        // A relay is kept for one period at most.
        if (now >= it->second.nack_at + config_.period) it = relays_.erase(it);
        else ++it;
    }
    SteadyTime next = next_period_;
    for (const std::string& id : std::vector<std::string>(suspects_.begin(), suspects_.end())) {
        Member& m = members_.at(id);
        const auto deadline = m.suspected_at + suspicion_timeout(m);
        if (now >= deadline) {
            set_state(id, m, MemberState::kDead, m.incarnation, now);
            broadcast({id, MemberState::kDead, m.incarnation, "", 0});
        } else {
            next = std::min(next, deadline);
        }
    }
    if (probe_ && !probe_->acked && !probe_->indirect_sent) next = std::min(next, probe_->direct_deadline);
    for (const auto& [seq, r] : relays_) next = std::min(next, r.nack_sent ? r.nack_at + config_.period : r.nack_at);
    return std::max(next, now + milliseconds(1));
}

std::vector<SwimDatagram> Swim::take_outgoing() { return std::exchange(outgoing_, {}); }
std::vector<SwimEvent> Swim::take_events() { return std::exchange(events_, {}); }

std::vector<MemberView> Swim::members() const {
    std::vector<MemberView> out;
    for (const auto& [id, m] : members_) out.push_back({id, m.state, m.incarnation, m.sessions, m.capacity});
    return out;
}

std::optional<MemberView> Swim::member(const std::string& id) const {
    auto it = members_.find(id);
    if (it == members_.end()) return std::nullopt;
    return MemberView{id, it->second.state, it->second.incarnation, it->second.sessions, it->second.capacity};
}

}  // namespace dhtalk
