// InboxService's sending side (inbox_service.h): messages wait in one queue,
// and each of the send workers takes up to a batch at a time and has the
// whole batch held by the holders in rounds. A round gives every message
// still short of holders its next member in its inbox's order; the
// messages bound for one member go in one request (one sync there), and
// those for this node in one sync here. A member that cannot be reached is
// passed over for the next in the following round; one that refuses a
// message (a bound) ends that message with its reason.
#include <algorithm>
#include <map>

#include "node/front/inbox_service.h"

namespace dhtalk {

void InboxService::send(InboxMessage m, Done done) {
    if (m.expires_ms == 0) m.expires_ms = expiry_from_now();
    if (Status ok = check_inbox_message(m, config_.limits.max_message_bytes); !ok) return done(ok);
    bool start_flusher = false;
    {
        std::lock_guard lock(send_mutex_);
        if (outgoing_.size() >= config_.max_queued)
            return done(Status::busy("this node is passing on too many messages: try again shortly"));
        Outgoing o;
        o.message = std::move(m);
        o.done = std::move(done);
        outgoing_.push_back(std::move(o));
        if (flushers_ < send_workers_.size()) {
            flushers_++;
            start_flusher = true;
        }
    }
    if (!start_flusher) return;  // a running flusher takes it
    if (!send_workers_.post([this] { flush_outgoing(); })) {
        std::lock_guard lock(send_mutex_);
        flushers_--;  // stopped: the messages queued wait for a flusher that is not coming, as in any stop
    }
}

void InboxService::flush_outgoing() {
    for (;;) {
        std::vector<Outgoing> batch;
        {
            std::lock_guard lock(send_mutex_);
            if (outgoing_.empty()) {
                flushers_--;
                return;
            }
            while (!outgoing_.empty() && batch.size() < kMaxInboxBatch) {
                batch.push_back(std::move(outgoing_.front()));
                outgoing_.pop_front();
            }
        }
        hold_batch(batch);
    }
}

void InboxService::hold_batch(std::vector<Outgoing>& batch) {
    for (auto& o : batch) {
        Holders h = holders_of(o.message.recipient, SIZE_MAX);
        o.live = std::move(h.live);
        o.needed = h.needed;
    }
    for (;;) {
        // This round: each unfinished message to its next member.
        std::map<std::string, std::vector<Outgoing*>> by_member;
        std::map<std::string, InboxPeer> members;
        for (auto& o : batch) {
            if (o.finished) continue;
            if (o.held == o.needed) {
                o.finish(Status::ok());
                continue;
            }
            if (o.next >= o.live.size()) {
                o.finish(Status::unavailable("the message is held by " + std::to_string(o.held) + " of the " +
                                             std::to_string(o.needed) + " nodes it needs (" + o.last.message() +
                                             "): try again"));
                continue;
            }
            const InboxPeer& peer = o.live[o.next++];
            by_member[peer.node_id].push_back(&o);
            members.emplace(peer.node_id, peer);
        }
        if (by_member.empty()) return;
        for (auto& [node, group] : by_member) hold_at(members.at(node), group);
    }
}

void InboxService::hold_at(const InboxPeer& peer, const std::vector<Outgoing*>& group) {
    // In requests of what fits, each synced once at the member.
    for (size_t at = 0; at < group.size();) {
        std::vector<Outgoing*> part;
        std::vector<InboxMessage> messages;
        size_t bytes = 0;
        for (; at < group.size(); ++at) {
            bytes += encoded_size_bound(group[at]->message) + 8;
            if (!part.empty() && bytes > kMaxHoldRequestBytes) break;
            part.push_back(group[at]);
            messages.push_back(group[at]->message);
        }
        std::vector<InboxMessage> refused;
        Status answer;
        if (peer.node_id == self_) {
            answer = hold_here(messages, nullptr, &refused);
        } else {
            InboxRequest r;
            r.kind = InboxRequest::Kind::kHold;
            bool one_recipient = true;
            for (const auto& m : messages) one_recipient = one_recipient && m.recipient == messages.front().recipient;
            r.recipient = one_recipient ? messages.front().recipient : std::string();
            r.messages = std::move(messages);
            auto reply = ask(peer, std::move(r));
            if (!reply) {
                for (auto* o : part) o->last = reply.status();  // not heard: the next member stands in
                continue;
            }
            answer = reply->status();
            refused = std::move(reply->messages);
            // A refusal that names no message is one for them all.
            if (!answer && refused.empty())
                for (auto* o : part) refused.push_back(o->message);
        }
        for (auto* o : part) {
            const bool was_refused = std::any_of(refused.begin(), refused.end(), [&](const InboxMessage& m) {
                return m.recipient == o->message.recipient && m.sender == o->message.sender && m.id == o->message.id;
            });
            // A bound or a disk: another holder would refuse alike.
            if (was_refused) o->finish(answer);
            else o->held++;
        }
    }
}

}  // namespace dhtalk
