// The receiving side of the presence channel: every datagram a member sends
// is decoded with bounds and checked here (PresenceChannel::on_datagram).
#include <algorithm>

#include "node/gossip/presence.h"
#include "node/gossip/presence_wire.h"

namespace dhtalk {

using namespace std::chrono;
using namespace presence_wire;

Status PresenceChannel::on_datagram(const std::string& from, std::string_view bytes, SteadyTime now) {
    if (from == self_ || std::find(members_.begin(), members_.end(), from) == members_.end()) {
        counters_.refused++;
        return Status::denied("a presence datagram from " + from + ", not a live member");
    }
    Status s = handle(from, bytes, now);
    if (!s) counters_.refused++;
    drain_self(now);
    return s;
}

Status PresenceChannel::handle(const std::string& from, std::string_view bytes, SteadyTime now) {
    if (bytes.size() > kMaxPresenceDatagram) return Status::corruption("a presence datagram over the size bound");
    try {
        auto h = unpack_whole(bytes.data(), bytes.size(), presence_limit(), "presence datagram");
        const auto& o = h.get();
        if (o.type != msgpack::type::ARRAY || o.via.array.size < 2 ||
            o.via.array.ptr[0].type != msgpack::type::POSITIVE_INTEGER || o.via.array.ptr[0].via.u64 != kPresenceVersion ||
            o.via.array.ptr[1].type != msgpack::type::POSITIVE_INTEGER)
            return Status::corruption("not a presence datagram of version 1");
        const auto kind = static_cast<Kind>(o.via.array.ptr[1].via.u64);
        switch (kind) {
        case Kind::kLocate: {
            Fields f(o, 5, "locate");
            f.next(), f.next();
            const std::string user = f.str(kMaxId), host = f.str(kMaxId);
            const uint64_t version = f.uint(UINT64_MAX);
            if (host != from) return Status::denied("a node locates only its own users");
            if (!in_directory(user)) break;  // a view of the members that differs from ours: it will settle
            if (!locations_.count(user) && locations_.size() >= config_.max_directory_users)
                return Status::exhausted("too many users located here");
            Location& loc = locations_[user];
            const bool moved = loc.host != host;
            if (!moved && version < loc.version) break;
            loc = Location{host, version, now + config_.lease};
            // The subscriptions here live as long as the user is located
            // here: a watcher that knows the host renews its subscription
            // there, not here, and a move must still reach it (below) at
            // once, not when the old host is declared dead.
            auto subs = directory_subs_.find(user);
            if (subs == directory_subs_.end()) break;
            for (auto& [node, lease] : subs->second) lease.until = std::max(lease.until, loc.until);
            if (!moved) break;
            // Tell the subscribers where the user is, and the host who watches.
            for (const auto& sub : subs->second) {
                const std::string& node = sub.first;
                const auto& lease = sub.second;
                send(node, message(static_cast<uint8_t>(Kind::kLocated), 2, [&](MsgpackPacker& pk) {
                         pack_str(pk, user);
                         pack_str(pk, host);
                     }));
                send(host, message(static_cast<uint8_t>(Kind::kSubscribe), 3, [&](MsgpackPacker& pk) {
                         pack_str(pk, user);
                         pack_str(pk, node);
                         pack_str_list(pk, first_watchers(lease.watchers));
                     }));
            }
            break;
        }
        case Kind::kSubscribe: {
            Fields f(o, 5, "subscribe");
            f.next(), f.next();
            const std::string user = f.str(kMaxId), origin = f.str(kMaxId);
            const auto ids = read_ids(f);
            const std::set<std::string> watchers(ids.begin(), ids.end());
            // A subscription is a member's: one per member and user at most.
            if (!is_member(origin)) return Status::denied("a subscription for " + origin + ", not a member");
            if (auto l = local_.find(user); l != local_.end()) {
                // We host the user: hold the subscription and answer at once.
                subscribers_[user][origin] = Lease{watchers, now + config_.lease};
                // A watcher here of a user hosted here: no directory names the
                // host to ourselves, so take it from what we host.
                if (origin == self_)
                    if (auto w = watched_.find(user); w != watched_.end()) w->second.host = self_;
                if (l->second.online || now < l->second.retain_until) send_presence(user, origin, watchers);
                break;
            }
            if (origin != from) break;  // forwarded to a node that no longer hosts the user
            if (!in_directory(user)) break;
            if (!directory_subs_.count(user) && directory_subs_.size() >= config_.max_directory_users)
                return Status::exhausted("too many users subscribed to here");
            directory_subs_[user][origin] = Lease{watchers, now + config_.lease};
            if (auto loc = locations_.find(user); loc != locations_.end()) {
                send(origin, message(static_cast<uint8_t>(Kind::kLocated), 2, [&](MsgpackPacker& pk) {
                         pack_str(pk, user);
                         pack_str(pk, loc->second.host);
                     }));
                send(loc->second.host, message(static_cast<uint8_t>(Kind::kSubscribe), 3, [&](MsgpackPacker& pk) {
                         pack_str(pk, user);
                         pack_str(pk, origin);
                         pack_str_list(pk, ids);
                     }));
            }
            break;
        }
        case Kind::kLocated: {
            Fields f(o, 4, "located");
            f.next(), f.next();
            const std::string user = f.str(kMaxId), host = f.str(kMaxId);
            // Only a directory node of the user may say where it is.
            const auto dir = directory(user);
            if (std::find(dir.begin(), dir.end(), from) == dir.end()) return Status::denied("not the user's directory");
            auto w = watched_.find(user);
            if (w == watched_.end()) break;
            w->second.host = host;
            break;
        }
        case Kind::kPresence: {
            Fields f(o, 5, "presence");
            f.next(), f.next();
            const std::string signed_bytes = f.bin(1024), signature = f.bin(1024);
            const auto to = read_ids(f);
            auto inner = unpack_whole(signed_bytes.data(), signed_bytes.size(), presence_limit(), "signed presence");
            Fields pf(inner.get(), 6, "presence");
            Presence p;
            p.user_id = pf.str(kMaxId);
            p.show = pf.str(16);
            p.status = pf.str(kMaxPresenceStatusBytes);
            p.last_seen_ms = pf.sint();
            p.version = pf.uint(UINT64_MAX);
            p.host = pf.str(kMaxId);
            if (!valid_show(p.show)) return Status::corruption("a presence with an unknown show");
            auto w = watched_.find(p.user_id);
            if (w == watched_.end()) break;  // no longer watched here
            if (p.host != from || w->second.host != from)
                return Status::denied("presence of " + p.user_id + " from " + from + ", which does not host the user");
            if (!signer_.verify(from, signed_bytes, signature))
                return Status::denied("presence of " + p.user_id + " with a bad signature");
            if (w->second.latest && p.version < w->second.latest->version) break;  // old or replayed
            // The same version again: the host's answer for a new watcher,
            // which deliver() gives only to watchers that lack it.
            if (!w->second.latest || p.version > w->second.latest->version) {
                counters_.presence_received++;
                w->second.latest = p;
            }
            deliver(w->second, std::set<std::string>(to.begin(), to.end()));
            break;
        }
        case Kind::kSync: {
            Fields f(o, 3, "sync");
            f.next(), f.next();
            std::vector<std::string> gone;  // users asked about that this node no longer holds
            for (const auto& e : f.array(kMaxSyncEntries)) {
                Fields ef(e, 3, "sync entry");
                std::string user = ef.str(kMaxId);
                const uint64_t version = ef.uint(UINT64_MAX);
                const auto ids = read_ids(ef);
                auto l = local_.find(user);
                if (l == local_.end() || (!l->second.online && now >= l->second.retain_until)) {
                    gone.push_back(std::move(user));
                    continue;
                }
                const std::set<std::string> watchers(ids.begin(), ids.end());
                subscribers_[user][from] = Lease{watchers, now + config_.lease};
                if (l->second.presence.version > version) send_presence(user, from, watchers);
            }
            // Without this answer the watcher would go on asking here, and
            // never hear of the user logging in on another node later: the
            // directory's subscriptions lapsed with the user's location.
            if (!gone.empty())
                send(from, message(static_cast<uint8_t>(Kind::kGone), 1,
                                   [&gone](MsgpackPacker& pk) { pack_str_list(pk, gone); }));
            break;
        }
        case Kind::kGone: {
            Fields f(o, 3, "gone");
            f.next(), f.next();
            for (const auto& user : f.str_list(kMaxSyncEntries, kMaxId)) {
                auto w = watched_.find(user);
                // Only the host named may disown the user: a Located from the
                // directory may have named the next one already.
                if (w == watched_.end() || w->second.host != from) continue;
                w->second.host.clear();
                subscribe(user);  // and at every sync while no host is known
            }
            break;
        }
        default:
            return Status::corruption("a presence datagram of unknown kind");
        }
    } catch (const DecodeError& e) {
        return Status::corruption(e.what);
    } catch (const std::exception& e) {
        return Status::corruption(std::string("a presence datagram is not valid msgpack: ") + e.what());
    }
    return Status::ok();
}

}  // namespace dhtalk
