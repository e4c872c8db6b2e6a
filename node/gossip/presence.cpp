#include "node/gossip/presence.h"

#include <algorithm>

#include "node/gossip/presence_wire.h"

namespace dhtalk {

using namespace std::chrono;

using namespace presence_wire;

bool valid_show(std::string_view show) {
    return show == "available" || show == "away" || show == "busy" || show == "unavailable";
}

PresenceChannel::PresenceChannel(std::string self, PresenceConfig config, PresenceSigner& signer)
    : self_(std::move(self)), config_(config), signer_(signer) {}

void PresenceChannel::set_members(const std::vector<std::string>& live, SteadyTime now) {
    members_ = live;
    if (std::find(members_.begin(), members_.end(), self_) == members_.end()) members_.push_back(self_);
    if (!started_) {
        next_sync_ = now + config_.sync_interval;
        started_ = true;
    }
}

std::vector<std::string> PresenceChannel::directory(const std::string& user) const {
    std::vector<std::pair<uint64_t, std::string>> ranked;
    for (const auto& m : members_) ranked.push_back({rendezvous(m, user), m});
    std::sort(ranked.begin(), ranked.end(), std::greater<>());
    std::vector<std::string> out;
    for (size_t i = 0; i < ranked.size() && i < config_.directory_replicas; ++i) out.push_back(ranked[i].second);
    return out;
}

bool PresenceChannel::is_member(const std::string& node) const {
    return std::find(members_.begin(), members_.end(), node) != members_.end();
}

bool PresenceChannel::in_directory(const std::string& user) const {
    const auto dir = directory(user);
    return std::find(dir.begin(), dir.end(), self_) != dir.end();
}

void PresenceChannel::send(const std::string& to, const std::string& bytes) {
    if (to == self_) to_self_.push_back(bytes);
    else outgoing_.push_back({to, bytes});
}

void PresenceChannel::drain_self(SteadyTime now) {
    // Messages to ourselves (we are a user's directory, or host and watcher
    // at once) are handled here, bounded in case they beget more.
    for (int round = 0; round < 8 && !to_self_.empty(); ++round) {
        auto batch = std::exchange(to_self_, {});
        for (const auto& b : batch) handle(self_, b, now).ignore_error();  // our own messages
    }
    to_self_.clear();
}

std::vector<std::string> PresenceChannel::allowed(const Local& l, const std::set<std::string>& watchers) const {
    std::vector<std::string> out;
    if (!l.privacy_known) return out;  // nobody, until the user's list is here
    for (const auto& w : watchers) {
        if (!l.privacy.admits(w)) continue;
        out.push_back(w);
        if (out.size() == kMaxWatchersPerEntry) break;
    }
    return out;
}

void PresenceChannel::send_presence(const std::string& user, const std::string& node,
                                    const std::set<std::string>& watchers) {
    auto it = local_.find(user);
    if (it == local_.end()) return;
    // The privacy list is applied here, before anything leaves the host.
    Local& l = it->second;
    const auto to = allowed(l, watchers);
    if (to.empty()) return;
    if (l.signed_version != l.presence.version || l.signed_bytes.empty()) {
        l.signed_bytes = encode_presence(l.presence);
        l.signature = signer_.sign(l.signed_bytes);
        l.signed_version = l.presence.version;
    }
    counters_.presence_sent++;
    send(node, message(static_cast<uint8_t>(Kind::kPresence), 3, [&](MsgpackPacker& pk) {
             pack_bin(pk, l.signed_bytes);
             pack_bin(pk, l.signature);
             pack_str_list(pk, to);
         }));
}

void PresenceChannel::publish(const std::string& user) {
    auto subs = subscribers_.find(user);
    if (subs == subscribers_.end()) return;
    for (const auto& [node, lease] : subs->second) send_presence(user, node, lease.watchers);
}

void PresenceChannel::locate(const std::string& user) {
    const auto& p = local_[user].presence;
    for (const auto& d : directory(user))
        send(d, message(static_cast<uint8_t>(Kind::kLocate), 3, [&](MsgpackPacker& pk) {
                 pack_str(pk, user);
                 pack_str(pk, self_);
                 pk.pack(p.version);
             }));
}

void PresenceChannel::subscribe(const std::string& target) {
    const auto& w = watched_[target];
    const auto watchers = first_watchers(w.watchers);
    for (const auto& d : directory(target))
        send(d, message(static_cast<uint8_t>(Kind::kSubscribe), 3, [&](MsgpackPacker& pk) {
                 pack_str(pk, target);
                 pack_str(pk, self_);
                 pack_str_list(pk, watchers);
             }));
}

uint64_t PresenceChannel::held_by_all(const Watched& w) {
    // The version every watcher here has: a watcher that lacks the latest
    // (the host's one answer to it was lost) asks for it again with 0, and
    // deliver() gives it only to the watchers that lack it.
    if (!w.latest) return 0;
    for (const auto& [watcher, holds] : w.watchers) {
        auto seen = w.seen.find(watcher);
        if (seen == w.seen.end() || seen->second != w.latest->version) return 0;
    }
    return w.latest->version;
}

void PresenceChannel::sync_hosts() {
    // One Sync per host, in batches that fit a datagram: renews the
    // subscriptions and asks for anything newer than what we hold.
    std::map<std::string, std::vector<const std::pair<const std::string, Watched>*>> by_host;
    for (const auto& entry : watched_)
        if (!entry.second.host.empty()) by_host[entry.second.host].push_back(&entry);
    for (const auto& [host, host_entries] : by_host) {
        const auto& entries = host_entries;  // a plain reference: lambdas below may capture it (clang 14)
        size_t i = 0;
        while (i < entries.size()) {
            size_t j = i, bytes = 0;
            while (j < entries.size() && j - i < kMaxSyncEntries && bytes < kSyncBatchBytes) {
                bytes += 60 + 42 * std::min(entries[j]->second.watchers.size(), kMaxWatchersPerEntry);
                ++j;
            }
            send(host, message(static_cast<uint8_t>(Kind::kSync), 1, [&](MsgpackPacker& pk) {
                     pk.pack_array(static_cast<uint32_t>(j - i));
                     for (size_t k = i; k < j; ++k) {
                         const auto& [user, w] = *entries[k];
                         pk.pack_array(3);
                         pack_str(pk, user);
                         pk.pack(held_by_all(w));
                         pack_str_list(pk, first_watchers(w.watchers));
                     }
                 }));
            i = j;
        }
    }
}

void PresenceChannel::deliver(Watched& w, const std::set<std::string>& to) {
    if (!w.latest) return;
    for (const auto& watcher : to) {
        if (!w.watchers.count(watcher)) continue;
        auto [seen, fresh] = w.seen.try_emplace(watcher, w.latest->version);
        if (!fresh && seen->second == w.latest->version) continue;  // this watcher has it already
        seen->second = w.latest->version;
        deliveries_.push_back({watcher, *w.latest});
    }
}

void PresenceChannel::member_dead(const std::string& node, int64_t wall_ms) {
    for (auto& [user, w] : watched_) {
        if (w.host != node) continue;
        w.host.clear();
        if (w.latest && w.latest->show != "unavailable") {
            w.latest->show = "unavailable";
            w.latest->last_seen_ms = wall_ms;
            // Only the watchers the host let see its latest presence hear of
            // the host's death: the others never knew the user was online.
            for (const auto& [watcher, version] : w.seen)
                if (version == w.latest->version && w.watchers.count(watcher))
                    deliveries_.push_back({watcher, *w.latest});
        }
    }
    for (auto it = locations_.begin(); it != locations_.end();)
        it = it->second.host == node ? locations_.erase(it) : std::next(it);
    for (auto& [user, subs] : subscribers_) subs.erase(node);
    members_.erase(std::remove(members_.begin(), members_.end(), node), members_.end());
}

void PresenceChannel::login(const std::string& user, SteadyTime now, int64_t wall_ms) {
    Local& l = local_[user];
    // A user coming online gives its current list again (set_privacy): a
    // list kept from earlier may have changed through another node since.
    if (!l.online) l.privacy_known = false;
    l.online = true;
    l.presence.user_id = user;
    l.presence.host = self_;
    l.presence.show = "available";
    l.presence.version = std::max<uint64_t>(l.presence.version + 1, static_cast<uint64_t>(wall_ms));
    locate(user);
    publish(user);
    drain_self(now);
}

void PresenceChannel::logout(const std::string& user, SteadyTime now, int64_t wall_ms) {
    auto it = local_.find(user);
    if (it == local_.end() || !it->second.online) return;
    Local& l = it->second;
    l.online = false;
    l.retain_until = now + config_.lease;
    l.presence.show = "unavailable";
    l.presence.last_seen_ms = wall_ms;
    l.presence.version = std::max<uint64_t>(l.presence.version + 1, static_cast<uint64_t>(wall_ms));
    publish(user);
    drain_self(now);
}

void PresenceChannel::logout_all(SteadyTime now, int64_t wall_ms) {
    std::vector<std::string> online;
    for (const auto& [user, l] : local_)
        if (l.online) online.push_back(user);
    for (const auto& user : online) logout(user, now, wall_ms);
}

Status PresenceChannel::set(const std::string& user, const std::string& show, const std::string& status,
                            SteadyTime now, int64_t wall_ms) {
    if (!valid_show(show) || show == "unavailable")
        return Status::invalid("presence must be available, away or busy");
    if (status.size() > kMaxPresenceStatusBytes)
        return Status::invalid("the status text is longer than " + std::to_string(kMaxPresenceStatusBytes) + " bytes");
    auto it = local_.find(user);
    if (it == local_.end() || !it->second.online) return Status::not_found("the user is not logged in here");
    Local& l = it->second;
    l.presence.show = show;
    l.presence.status = status;
    l.presence.version = std::max<uint64_t>(l.presence.version + 1, static_cast<uint64_t>(wall_ms));
    publish(user);
    drain_self(now);
    return Status::ok();
}

void PresenceChannel::set_privacy(const std::string& user, PrivacyList list, SteadyTime now) {
    Local& l = local_[user];
    l.privacy = std::move(list);
    l.privacy_known = true;
    if (l.presence.user_id.empty()) {
        l.presence.user_id = user;
        l.presence.host = self_;
    }
    // Watchers the list allows now (all of them, if it was unknown until
    // now) get the current presence at once; the others' nodes hear nothing,
    // and watcher nodes pass a version on only to watchers that lack it.
    if (l.online) {
        publish(user);
        drain_self(now);
    }
}

Status PresenceChannel::watch(const std::string& watcher, const std::string& target, SteadyTime now) {
    auto it = watched_.find(target);
    if (it != watched_.end())
        if (auto held = it->second.watchers.find(watcher); held != it->second.watchers.end()) {
            held->second++;  // another hold of a watch in place
            return Status::ok();
        }
    if (watching_[watcher] >= config_.max_watched_per_user)
        return Status::exhausted("you watch " + std::to_string(config_.max_watched_per_user) +
                                 " users already: unwatch some first");
    if (it == watched_.end()) {
        if (watched_.size() >= config_.max_watched)
            return Status::exhausted("this node watches too many users already");
        it = watched_.emplace(target, Watched{}).first;
    }
    it->second.watchers.emplace(watcher, 1);
    watching_[watcher]++;
    // Nothing from what is held here: the host decides what this watcher may
    // see, and answers the subscription with it.
    subscribe(target);  // the directory passes it on, with the new watcher, to the host
    drain_self(now);
    return Status::ok();
}

void PresenceChannel::forget_watcher(Watched& w, const std::string& watcher) {
    if (!w.watchers.erase(watcher)) return;
    w.seen.erase(watcher);
    if (auto n = watching_.find(watcher); n != watching_.end() && --n->second == 0) watching_.erase(n);
}

void PresenceChannel::unwatch(const std::string& watcher, const std::string& target) {
    auto it = watched_.find(target);
    if (it == watched_.end()) return;
    auto held = it->second.watchers.find(watcher);
    if (held == it->second.watchers.end() || --held->second > 0) return;
    forget_watcher(it->second, watcher);
    // With no watcher left, the subscription is no longer renewed and lapses.
    if (it->second.watchers.empty()) watched_.erase(it);
}

void PresenceChannel::unwatch_all(const std::string& watcher) {
    for (auto it = watched_.begin(); it != watched_.end();) {
        forget_watcher(it->second, watcher);
        it = it->second.watchers.empty() ? watched_.erase(it) : std::next(it);
    }
}

bool PresenceChannel::watching(const std::string& watcher, const std::string& target) const {
    auto it = watched_.find(target);
    return it != watched_.end() && it->second.watchers.count(watcher);
}

std::optional<Presence> PresenceChannel::presence_for(const std::string& watcher, const std::string& user) const {
    if (auto l = local_.find(user); l != local_.end() && !l->second.presence.host.empty() && l->second.presence.version) {
        if (allowed(l->second, {watcher}).empty()) return std::nullopt;
        return l->second.presence;
    }
    // A watched user's presence as far as the host let this watcher see it.
    auto w = watched_.find(user);
    if (w == watched_.end() || !w->second.latest) return std::nullopt;
    auto seen = w->second.seen.find(watcher);
    if (seen == w->second.seen.end() || seen->second != w->second.latest->version) return std::nullopt;
    return w->second.latest;
}

SteadyTime PresenceChannel::tick(SteadyTime now) {
    if (!started_) return now + config_.sync_interval;
    if (now >= next_sync_) {
        next_sync_ = now + config_.sync_interval;
        for (auto& [user, l] : local_)
            if (l.online) locate(user);
        for (auto& [user, w] : watched_)
            if (w.host.empty()) subscribe(user);
        sync_hosts();
        // Leases not renewed lapse; logged-out users are forgotten after theirs.
        auto expire = [now](std::map<std::string, std::map<std::string, Lease>>& m) {
            for (auto it = m.begin(); it != m.end();) {
                for (auto s = it->second.begin(); s != it->second.end();)
                    s = s->second.until <= now ? it->second.erase(s) : std::next(s);
                it = it->second.empty() ? m.erase(it) : std::next(it);
            }
        };
        expire(subscribers_);
        expire(directory_subs_);
        for (auto it = locations_.begin(); it != locations_.end();)
            it = it->second.until <= now ? locations_.erase(it) : std::next(it);
        for (auto it = local_.begin(); it != local_.end();)
            it = !it->second.online && it->second.retain_until <= now && it->second.presence.version
                     ? local_.erase(it)
                     : std::next(it);
    }
    drain_self(now);
    return next_sync_;
}

std::vector<SwimDatagram> PresenceChannel::take_outgoing() { return std::exchange(outgoing_, {}); }
std::vector<PresenceDelivery> PresenceChannel::take_deliveries() { return std::exchange(deliveries_, {}); }

}  // namespace dhtalk
