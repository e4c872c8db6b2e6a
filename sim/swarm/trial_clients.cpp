// The clients' workload: resolves, vCard updates, presence changes and
// messages, asked of the nodes' front ends and their answers read.
#include "sim/swarm/trial.h"

#include "net/inbox_message.h"
#include "records/record.h"
#include "records/record_bodies.h"

namespace dhtalk::swarm {

using namespace std::chrono;

void Trial::ask(size_t u, const std::string& method, FrameParams params, Pending p) {
    Client& c = clients_[u];
    if (!online(u)) return;
    p.id = sim_.front(c.node)->request(c.session, method, std::move(params));
    p.asked = sim_.network().now();
    if (p.id) c.pending.push_back(p);
}

void Trial::start_operations(SteadyTime now) {
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

void Trial::publish_vcard(size_t u, std::optional<SteadyTime> now) {
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

void Trial::send(size_t index) {
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

void Trial::answered(Operation& op, SteadyTime now, const std::string& outcome) {
    if (!op.event.outcome.empty()) return;
    op.event.outcome = outcome;
    op.event.latency_ms = duration<double, std::milli>(now - op.started).count();
}

// A copy handed to `u`: the first is the delivery, later ones dropped.
void Trial::handed(size_t u, const std::string& encoded, SteadyTime now) {
    const auto id = clients_[u].inbox.take(encoded);
    if (!id) return;
    const size_t index = std::strtoul(id->c_str() + 1, nullptr, 10);
    if (index < messages_.size() && !messages_[index].delivered) messages_[index].delivered = now;
}

void Trial::pushed(size_t u, const ClientFrame& f, SteadyTime now) {
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

Status Trial::step(size_t u, SteadyTime now) {
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

}  // namespace dhtalk::swarm
