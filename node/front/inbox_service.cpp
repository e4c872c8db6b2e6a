#include "node/front/inbox_service.h"

#include <algorithm>
#include <map>

#include "common/log.h"
#include "crypto/fast_key.h"
#include "crypto/signing.h"
#include "dht/placement.h"
#include "node/front/member_request.h"

namespace dhtalk {

using namespace std::chrono;

namespace {

constexpr const char* kInboxPath = "/v1/inbox";
// A fetch asks this many members at most: the holders, and those that stood
// in for a holder that was down when a message was sent.
constexpr size_t kFetchFrom = 2 * kInboxHolders;
// What a fetch answer carries at most, leaving room for its envelope.
constexpr size_t kFetchAnswerBytes = kMaxInboxPeerBytes - 16 * 1024;
// Nodes one inbox is passed on to at most (a user's sessions on several nodes).
constexpr size_t kMaxFollowersPerInbox = 8;

}  // namespace

InboxService::InboxService(InboxConfig config, const crypto::NodeIdentity& identity, Store& store, const Clock& clock,
                           Drivers& drivers, PeerNet& net)
    : config_(std::move(config)),
      identity_(identity),
      self_(identity.node_id_hex()),
      clock_(clock),
      net_(net),
      inbox_(store, config_.limits),
      send_workers_(drivers, "inbox-send", config_.senders, config_.max_queued),
      push_workers_(drivers, "inbox-push", config_.pushers, config_.max_queued),
      follow_workers_(drivers, "inbox-follow", config_.followers, config_.max_queued),
      fetch_workers_(drivers, "inbox-fetch", config_.fetchers, config_.max_queued),
      worker_(drivers, "inbox-peers", config_.max_queued) {}

std::vector<InboxPeer> InboxService::members_now() const {
    return members_ ? members_() : std::vector<InboxPeer>{};
}

InboxService::Holders InboxService::holders_of(const std::string& recipient, size_t max) const {
    return holders_among(members_now(), recipient, max);
}

InboxService::Holders InboxService::holders_among(const std::vector<InboxPeer>& members, const std::string& recipient,
                                                  size_t max) const {
    if (members.empty()) return {{InboxPeer{self_, "", "", true}}, 1};
    Holders h;
    h.needed = std::min(members.size(), kInboxHolders);
    std::vector<std::string> ids;
    std::map<std::string_view, const InboxPeer*> by_id;
    for (const auto& m : members) {
        ids.push_back(m.node_id);
        by_id.emplace(m.node_id, &m);
    }
    for (const auto& id : rank_members("inbox", recipient, std::move(ids))) {
        if (h.live.size() == max) break;
        const InboxPeer& m = *by_id.at(id);
        if (m.alive || m.node_id == self_) h.live.push_back(m);  // this node, running, is alive
    }
    return h;
}

bool InboxService::post_fetch(const std::string& recipient, std::function<void()> job,
                              const std::function<void(Status)>& refused) {
    // One recipient's always on the same worker: an acknowledgement is
    // applied before a fetch the client asks for after it.
    if (fetch_workers_.post_keyed(recipient, std::move(job))) return true;
    refused(Status::busy("this node is passing on too many messages: try again shortly"));
    return false;
}

int64_t InboxService::expiry_from_now() const {
    return to_unix_millis(clock_.wall_now()) + duration_cast<milliseconds>(config_.ttl).count();
}

void InboxService::fetch(const std::string& recipient, size_t max, Fetched done) {
    max = std::min(max, kMaxInboxBatch);
    auto job = [this, recipient, max, done] {
        std::map<std::pair<std::string, std::string>, InboxMessage> found;  // (sender, id): each once
        bool holder_answered = false;  // one of the first `needed`: where messages are held
        Status last = Status::unavailable("no inbox holder can be reached");
        const Holders holders = holders_of(recipient, kFetchFrom);
        for (size_t rank = 0; rank < holders.live.size(); ++rank) {
            const InboxPeer& peer = holders.live[rank];
            Result<std::vector<InboxMessage>> got = Status::internal("unset");
            if (peer.node_id == self_) {
                got = pending_here(recipient, max);
            } else {
                InboxRequest r;
                r.kind = InboxRequest::Kind::kFetch;
                r.recipient = recipient;
                r.max = static_cast<uint32_t>(max);
                auto answer = ask(peer, std::move(r));
                if (answer && !answer->status()) answer = answer->status();
                got = answer ? Result<std::vector<InboxMessage>>(std::move(answer->messages))
                             : Result<std::vector<InboxMessage>>(answer.status());
            }
            if (!got) {
                last = got.status();
                continue;
            }
            holder_answered = holder_answered || rank < holders.needed;
            for (auto& m : *got)
                if (m.recipient == recipient) found.emplace(std::make_pair(m.sender, m.id), std::move(m));
        }
        // Only stand-ins answered: an empty answer would claim an empty inbox.
        if (!holder_answered)
            return done(Status::unavailable("no holder of this inbox answered (" + last.message() + "): try again"));
        std::vector<InboxMessage> out;
        for (auto& [key, m] : found) {
            if (out.size() == max) break;
            out.push_back(std::move(m));
        }
        done(std::move(out));
    };
    post_fetch(recipient, std::move(job), [&](const Status& s) { done(s); });
}

void InboxService::acknowledge(const std::string& recipient, std::vector<MessageRef> acks, Done done) {
    if (acks.size() > kMaxInboxBatch)
        return done(Status::invalid("at most " + std::to_string(kMaxInboxBatch) + " messages at once"));
    for (const auto& a : acks)
        if (!is_inbox_id(a.sender) || !is_inbox_id(a.id)) return done(Status::invalid("a malformed message reference"));
    auto job = [this, recipient, acks = std::move(acks), done] {
        size_t answered = 0;
        Status last = Status::unavailable("no inbox holder can be reached");
        for (const auto& peer : holders_of(recipient, kFetchFrom).live) {
            Status st;
            if (peer.node_id == self_) {
                for (const auto& a : acks)
                    if (st = inbox_.acknowledge(recipient, a.sender, a.id); !st) break;
            } else {
                InboxRequest r;
                r.kind = InboxRequest::Kind::kAck;
                r.recipient = recipient;
                r.acks = acks;
                auto answer = ask(peer, std::move(r));
                st = answer ? answer->status() : answer.status();
            }
            if (st) answered++;
            else last = st;
        }
        // A holder that did not hear it hands the message out again; the
        // client knows it by its id and acknowledges it once more.
        done(answered ? Status::ok() : last);
    };
    post_fetch(recipient, std::move(job), done);
}

size_t InboxService::expire() {
    const int64_t now = to_unix_millis(clock_.wall_now());
    size_t dropped = 0;
    for (;;) {
        auto gone = inbox_.expire(now, 1024);
        if (!gone) {
            DHTALK_LOG(kWarning, "inbox", "cannot drop expired messages: " << gone.status().message());
            break;
        }
        dropped += gone->size();
        if (gone->size() < 1024) break;
    }
    if (dropped) DHTALK_LOG(kInfo, "inbox", "dropped " << dropped << " expired messages");
    return dropped;
}

Status InboxService::hold_here(const std::vector<InboxMessage>& messages, std::vector<InboxMessage>* fresh,
                               std::vector<InboxMessage>* refused) {
    Status first_refusal = Status::ok();
    for (const auto& m : messages) {
        auto held = inbox_.hold(m);
        if (!held) {
            if (first_refusal) first_refusal = held.status();
            if (refused) refused->push_back(m);
            continue;  // a bound for this one; the others go on
        }
        if (fresh && *held == InboxStore::Held::kNew) fresh->push_back(m);
    }
    // On disk before anyone hears "held": one sync for them all.
    if (Status synced = inbox_.sync(); !synced) {
        if (refused) *refused = messages;  // none of them is safe
        if (fresh) fresh->clear();
        return synced;
    }
    if (fresh) {
        std::map<std::string, std::vector<InboxMessage>> by_recipient;
        for (auto& m : *fresh) by_recipient[m.recipient].push_back(m);
        for (const auto& [recipient, new_ones] : by_recipient) pass_on(recipient, new_ones);
    }
    return first_refusal;
}

Result<std::vector<InboxMessage>> InboxService::pending_here(const std::string& recipient, size_t max) const {
    auto pending = inbox_.pending(recipient, max);
    if (!pending) return pending.status();
    // As many as fit in one answer; the rest come with the next fetch.
    size_t bytes = 0, fit = 0;
    for (; fit < pending->size(); ++fit) {
        bytes += encoded_size_bound((*pending)[fit]) + 8;
        if (bytes > kFetchAnswerBytes) break;
    }
    pending->resize(fit);
    return pending;
}

void InboxService::follow(const std::string& recipient, Done done) {
    {
        std::lock_guard lock(follow_mutex_);
        if (following_[recipient]++ > 0) return done(Status::ok());
    }
    // The first session: registered now, renewed with the others. A holder
    // that could not be asked hears at the next renewal.
    register_follows({recipient}, [done] { done(Status::ok()); });
}

void InboxService::unfollow(const std::string& recipient) {
    // The holders' leases run out; what they pass on meanwhile is dropped.
    std::lock_guard lock(follow_mutex_);
    auto it = following_.find(recipient);
    if (it != following_.end() && --it->second == 0) following_.erase(it);
}

void InboxService::renew_follows() {
    std::vector<std::string> recipients;
    {
        std::lock_guard lock(follow_mutex_);
        const SteadyTime now = clock_.now();
        if (now < next_renewal_ || renewing_) return;  // one at a time: a slow holder must not pile them up
        next_renewal_ = now + config_.follow_lease / 3;
        for (const auto& [recipient, sessions] : following_) recipients.push_back(recipient);
        renewing_ = !recipients.empty();
        // As a holder: forget followers whose lease ran out.
        for (auto it = followers_.begin(); it != followers_.end();) {
            std::erase_if(it->second, [&](const auto& f) { return f.second <= now; });
            it = it->second.empty() ? followers_.erase(it) : std::next(it);
        }
    }
    if (recipients.empty()) return;
    register_follows(recipients, [this] {
        std::lock_guard lock(follow_mutex_);
        renewing_ = false;
    });
}

void InboxService::register_follows(const std::vector<std::string>& recipients, std::function<void()> done) {
    // Each holder's recipients, so that it is asked once for all of them.
    std::map<std::string, std::pair<InboxPeer, std::vector<std::string>>> by_holder;
    const std::vector<InboxPeer> members = members_now();  // one list for all: building it is not free
    for (const auto& recipient : recipients) {
        for (const auto& peer : holders_among(members, recipient, kFetchFrom).live) {
            if (peer.node_id == self_) {
                add_follower(recipient, self_).ignore_error();  // bounded: then pushes wait for the fetch
                continue;
            }
            auto& entry = by_holder.try_emplace(peer.node_id, peer, std::vector<std::string>{}).first->second;
            entry.second.push_back(recipient);
        }
    }
    std::vector<std::pair<InboxPeer, std::vector<std::string>>> requests;
    for (auto& [id, entry] : by_holder) {
        auto& [peer, listed] = entry;
        for (size_t i = 0; i < listed.size(); i += kMaxInboxBatch) {
            const size_t end = std::min(listed.size(), i + kMaxInboxBatch);
            requests.emplace_back(peer, std::vector<std::string>(listed.begin() + i, listed.begin() + end));
        }
    }
    if (requests.empty()) return done();
    // `done` runs after the last request, whichever worker ends it; a job
    // a full queue refuses counts as ended (its holder hears next renewal).
    auto left = std::make_shared<std::atomic<size_t>>(requests.size());
    auto finished = [left, done] {
        if (left->fetch_sub(1) == 1) done();
    };
    for (auto& request : requests) {
        auto job = [this, peer = request.first, listed = std::move(request.second), finished]() mutable {
            follow_at(peer, std::move(listed));
            finished();
        };
        if (!follow_workers_.post(std::move(job))) finished();
    }
}

void InboxService::follow_at(const InboxPeer& holder, std::vector<std::string> recipients) {
    InboxRequest r;
    r.kind = InboxRequest::Kind::kFollow;
    // One recipient in the field all nodes read.
    if (recipients.size() == 1) r.recipient = std::move(recipients.front());
    else r.recipients = std::move(recipients);
    auto answer = ask(holder, std::move(r));
    Status st = answer ? answer->status() : answer.status();
    if (!st) DHTALK_LOG(kDebug, "inbox", "cannot follow inboxes at " << holder.node_id.substr(0, 8) << ": " << st.message());
}

Status InboxService::add_follower(const std::string& recipient, const std::string& node) {
    std::lock_guard lock(follow_mutex_);
    auto it = followers_.find(recipient);
    if (it == followers_.end()) {
        if (followers_.size() >= config_.max_follows)
            return Status::exhausted("this holder passes on the messages of too many inboxes");
        it = followers_.emplace(recipient, std::map<std::string, SteadyTime>{}).first;
    }
    auto& nodes = it->second;
    if (!nodes.count(node) && nodes.size() >= kMaxFollowersPerInbox) {
        // The lease that ends first makes room.
        nodes.erase(std::min_element(nodes.begin(), nodes.end(),
                                     [](const auto& a, const auto& b) { return a.second < b.second; }));
    }
    nodes[node] = clock_.now() + config_.follow_lease;
    return Status::ok();
}

void InboxService::pass_on(const std::string& recipient, const std::vector<InboxMessage>& fresh) {
    if (fresh.empty()) return;
    std::vector<std::string> nodes;
    {
        std::lock_guard lock(follow_mutex_);
        auto it = followers_.find(recipient);
        if (it == followers_.end()) return;
        const SteadyTime now = clock_.now();
        for (const auto& [node, until] : it->second)
            if (until > now) nodes.push_back(node);
    }
    for (const auto& node : nodes) {
        if (node == self_) {
            delivered(recipient, fresh);
            continue;
        }
        auto job = [this, node, recipient, fresh] {
            std::vector<InboxPeer> members = members_ ? members_() : std::vector<InboxPeer>{};
            auto peer = std::find_if(members.begin(), members.end(), [&](const InboxPeer& p) { return p.node_id == node; });
            if (peer == members.end() || !peer->alive) return;
            InboxRequest r;
            r.kind = InboxRequest::Kind::kDeliver;
            r.recipient = recipient;
            r.messages = fresh;
            auto answer = ask(*peer, std::move(r));
            // Not passed on: the recipient's client fetches it.
            if (!answer) DHTALK_LOG(kDebug, "inbox", "cannot pass a message on: " << answer.status().message());
        };
        static_cast<void>(push_workers_.post(std::move(job)));  // a full queue: the client fetches it
    }
}

void InboxService::delivered(const std::string& recipient, const std::vector<InboxMessage>& messages) {
    std::vector<InboxMessage> once;
    {
        std::lock_guard lock(follow_mutex_);
        if (!following_.count(recipient)) return;  // no session wants it here (any more)
        for (const auto& m : messages) {
            if (m.recipient != recipient || !handed_over_.insert(recipient + "/" + m.sender + "/" + m.id)) continue;
            once.push_back(m);
        }
    }
    if (!once.empty() && deliver_) deliver_(recipient, once);
}

Result<InboxAnswer> InboxService::ask(const InboxPeer& peer, InboxRequest r) {
    return ask_member({net_, identity_, config_.network_id, clock_.wall_now(), kInboxPath, kMaxInboxPeerBytes},
                      {peer.node_id, peer.endpoint, peer.fast_key, "inbox holder " + peer.node_id.substr(0, 8)},
                      std::move(r), decode_inbox_answer);
}

Result<std::string> InboxService::on_inbox_request(std::string_view bytes) {
    auto r = decode_inbox_request(bytes);
    if (!r) return r.status();
    std::string fast_key;
    if (members_)
        for (const auto& m : members_())
            if (m.node_id == r->from) fast_key = m.fast_key;
    DHTALK_TRY(check_member_request({"an inbox request", r->network_id, r->from, r->to, r->sent_ms, body_of(*r), r->signature},
                                    {config_.network_id, self_, fast_key, clock_.wall_now(), config_.max_skew}));

    InboxAnswer a;
    a.network_id = config_.network_id;
    a.from = self_;
    a.request_digest = crypto::sha256(bytes);
    Status answer;
    switch (r->kind) {
    case InboxRequest::Kind::kHold: {
        std::vector<InboxMessage> fresh, refused;
        answer = hold_here(r->messages, &fresh, &refused);  // passes the new ones on, once on disk
        if (!answer) a.messages = std::move(refused);        // the others are held
        break;
    }
    case InboxRequest::Kind::kFollow:
        if (r->recipients.empty()) {
            answer = add_follower(r->recipient, r->from);
            break;
        }
        for (const auto& recipient : r->recipients)  // the first refusal; the others are kept
            if (Status st = add_follower(recipient, r->from); !st && answer) answer = st;
        break;
    case InboxRequest::Kind::kDeliver:
        delivered(r->recipient, r->messages);
        break;
    case InboxRequest::Kind::kFetch:
        if (auto pending = pending_here(r->recipient, r->max)) a.messages = std::move(pending).value();
        else answer = pending.status();
        break;
    case InboxRequest::Kind::kAck:
        for (const auto& ack : r->acks)
            if (answer = inbox_.acknowledge(r->recipient, ack.sender, ack.id); !answer) break;
        break;
    }
    a.code = answer.code();
    a.message = answer.message().substr(0, 256);
    auto signature = crypto::sign(*identity_.fast_key, body_of(a));
    if (!signature) return signature.status();
    a.signature = std::move(signature).value();
    return encode(a);
}

}  // namespace dhtalk
