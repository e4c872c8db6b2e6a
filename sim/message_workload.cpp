#include "sim/message_workload.h"

#include <algorithm>
#include <cstdio>
#include <optional>
#include <random>
#include <set>

#include "net/inbox_message.h"
#include "sim/inbox_follower.h"
#include "sim/sim_ops.h"

namespace dhtalk {

using namespace std::chrono;

namespace {

constexpr milliseconds kStep{5};
constexpr seconds kFetchEvery{60};
constexpr seconds kRetryAfter{10};  // a send with no answer is sent again (same id)

// A request a client waits on, on its current session.
struct Pending {
    enum class Kind { kSend, kFetch, kAck };
    Kind kind = Kind::kSend;
    size_t message = 0;  // kSend
    uint64_t id = 0;
    SteadyTime asked{};
};

struct Client {
    SimUser user;
    std::string address;
    size_t node = 0;
    uint64_t session = 0;  // 0: not logged in
    size_t pushes_read = 0;
    SteadyTime next_fetch{};
    std::vector<Pending> pending;
    InboxFollower inbox;
};

struct Message {
    size_t from = 0, to = 0;
    SteadyTime send_at{};
    SteadyTime first_sent{};
    std::optional<SteadyTime> stored, delivered;
    bool churn_phase = false;
};

struct ChurnEvent {
    SteadyTime at;
    size_t node;
    bool crash;
};

class Workload {
public:
    Workload(SimNodes& sim, size_t nodes, const MessageWorkloadConfig& config)
        : sim_(sim), nodes_(nodes), config_(config), rng_(config.seed), up_(nodes, true) {}

    Status register_users(const std::vector<std::shared_ptr<dht::crypto::PrivateKey>>& keys) {
        clients_.resize(config_.users);
        for (size_t u = 0; u < config_.users; ++u) {
            Client& c = clients_[u];
            c.address = "10.1." + std::to_string(u / 250) + "." + std::to_string(u % 250);
            char phone[32];
            std::snprintf(phone, sizeof phone, "+1555%07zu", u);
            auto registered = sim_register(sim_, u % nodes_, phone, keys.at(u), c.address);
            if (!registered) return Status(registered.status().code(), "registering user " + std::to_string(u) + ": " + registered.status().message());
            c.user = std::move(registered).value();
        }
        for (size_t u = 0; u < config_.users; ++u)
            if (!log_in(u, (u * 7 + 3) % nodes_)) return Status::unavailable("user " + std::to_string(u) + " cannot log in");
        sim_.network().run_for(5s);
        return Status::ok();
    }

    // The messages and the churn, in virtual time from now.
    void plan() {
        t0_ = sim_.network().now();
        const double run_s = static_cast<double>(config_.run.count());
        auto at = [&](double from_s, double to_s) {
            return t0_ + duration_cast<nanoseconds>(duration<double>(std::uniform_real_distribution<double>(from_s, to_s)(rng_)));
        };
        messages_.resize(config_.messages);
        for (auto& m : messages_) {
            m.from = std::uniform_int_distribution<size_t>(0, config_.users - 1)(rng_);
            do m.to = std::uniform_int_distribution<size_t>(0, config_.users - 1)(rng_);
            while (m.to == m.from);
            m.send_at = at(0, run_s);
            m.churn_phase = m.send_at >= t0_ + config_.run / 2;
        }
        std::sort(messages_.begin(), messages_.end(), [](const Message& a, const Message& b) { return a.send_at < b.send_at; });
        std::vector<size_t> order(nodes_);
        for (size_t i = 0; i < nodes_; ++i) order[i] = i;
        std::shuffle(order.begin(), order.end(), rng_);
        result_.churned = std::min(nodes_ - 1, static_cast<size_t>(config_.churn * static_cast<double>(nodes_) + 0.5));
        for (size_t k = 0; k < result_.churned; ++k) {
            const SteadyTime crash = at(run_s / 2, run_s * 0.85);
            const auto down = duration_cast<nanoseconds>(duration<double>(std::uniform_real_distribution<double>(5, 30)(rng_)));
            events_.push_back({crash, order[k], true});
            events_.push_back({crash + down, order[k], false});
        }
        std::sort(events_.begin(), events_.end(), [](const ChurnEvent& a, const ChurnEvent& b) { return a.at < b.at; });
    }

    Status run(const std::function<void(double, double)>& progress) {
        const SteadyTime end = t0_ + config_.run + config_.drain;
        const double total_s = duration<double>(end - t0_).count();
        SteadyTime next_progress = t0_;
        while (sim_.network().now() < end) {
            sim_.network().run_for(kStep);
            const SteadyTime now = sim_.network().now();
            if (progress && now >= next_progress) {
                progress(duration<double>(now - t0_).count(), total_s);
                next_progress = now + 5s;
            }
            DHTALK_TRY(churn(now));
            for (; next_message_ < messages_.size() && messages_[next_message_].send_at <= now; ++next_message_) {
                messages_[next_message_].first_sent = now;
                send(next_message_);
            }
            for (size_t u = 0; u < clients_.size(); ++u) step(u, now);
        }
        return Status::ok();
    }

    MessageWorkloadResult result() {
        MessageWorkloadResult r = result_;
        r.sent = messages_.size();
        for (const auto& c : clients_) r.redelivered += c.inbox.repeats;
        for (const auto& m : messages_) {
            r.stored += m.stored.has_value();
            if (m.delivered) {
                ++r.delivered;
                (m.churn_phase ? r.churn_latency_ms : r.calm_latency_ms)
                    .push_back(duration<double, std::milli>(*m.delivered - m.first_sent).count());
            } else if (m.stored) {
                ++r.lost;
            }
        }
        return r;
    }

private:
    // Logs `u` in on `node` and follows the inbox; a fetch follows at once.
    bool log_in(size_t u, size_t node) {
        Client& c = clients_[u];
        c.node = node;
        c.session = 0;
        c.pushes_read = 0;
        c.pending.clear();
        auto s = sim_login(sim_, node, c.user, c.address);
        if (!s) return false;
        c.session = *s;
        sim_.front(node)->request(c.session, "inbox.follow", {});
        c.next_fetch = sim_.network().now();
        return true;
    }

    size_t live_node(size_t avoid) {
        for (;;) {
            const size_t n = std::uniform_int_distribution<size_t>(0, nodes_ - 1)(rng_);
            if (up_[n] && n != avoid) return n;
        }
    }

    Status churn(SteadyTime now) {
        for (; next_event_ < events_.size() && events_[next_event_].at <= now; ++next_event_) {
            const ChurnEvent& e = events_[next_event_];
            if (e.crash) {
                sim_.crash(e.node);
                up_[e.node] = false;
                continue;
            }
            NodeConfig again = config_.base;
            again.bootstrap = {sim_.endpoint(live_node(e.node))};
            Status started = sim_.start(e.node, again);
            if (!started) return Status(started.code(), "restarting node " + std::to_string(e.node) + ": " + started.message());
            up_[e.node] = true;
        }
        return Status::ok();
    }

    void ask(size_t u, const std::string& method, FrameParams params, Pending p) {
        Client& c = clients_[u];
        if (!c.session || !up_[c.node]) return;  // sent again after the failover
        p.id = sim_.front(c.node)->request(c.session, method, std::move(params));
        p.asked = sim_.network().now();
        if (p.id) c.pending.push_back(p);
    }

    void send(size_t index) {
        const Message& m = messages_[index];
        Pending p;
        p.message = index;
        if (!clients_[m.from].session || !up_[clients_[m.from].node]) {
            clients_[m.from].pending.push_back(p);  // id 0: sent after the failover
            return;
        }
        ask(m.from, "message.send",
            {{"to", clients_[m.to].user.user_id}, {"device", clients_[m.to].user.device_id}, {"id", "m" + std::to_string(index)}, {"body", std::string(120, 'c')},
             {"sent_ms", uint64_t{1}}},
            p);
    }

    // A copy handed to `u`: the first is the delivery, later ones dropped.
    void handed(size_t u, const std::string& encoded) {
        const auto id = clients_[u].inbox.take(encoded);
        if (!id) return;
        const size_t index = std::strtoul(id->c_str() + 1, nullptr, 10);
        if (index < messages_.size() && !messages_[index].delivered) messages_[index].delivered = sim_.network().now();
    }

    void step(size_t u, SteadyTime now) {
        Client& c = clients_[u];
        if (!up_[c.node]) {
            // Its node crashed: the connection reset. Log in elsewhere and
            // send again what was not stored.
            ++result_.failovers;
            std::vector<Pending> unanswered = std::move(c.pending);
            if (!log_in(u, live_node(c.node))) return;
            for (const auto& q : unanswered)
                if (q.kind == Pending::Kind::kSend) ++result_.retries, send(q.message);
            return;
        }
        MemoryFront* front = sim_.front(c.node);
        const auto& pushed = front->pushed(c.session);
        for (; c.pushes_read < pushed.size(); ++c.pushes_read)
            if (pushed[c.pushes_read].kind == "message")
                if (auto bytes = pushed[c.pushes_read].text("message", kMaxEncodedMessageBytes)) handed(u, *bytes);
        std::vector<Pending> waiting;
        std::vector<size_t> again;
        for (const auto& q : c.pending) {
            auto reply = front->reply(c.session, q.id);
            if (!reply) {
                if (q.kind == Pending::Kind::kSend && now - q.asked > kRetryAfter) again.push_back(q.message);
                else waiting.push_back(q);
                continue;
            }
            if (q.kind == Pending::Kind::kSend) {
                if (reply->status()) messages_[q.message].stored = messages_[q.message].stored.value_or(now);
                else again.push_back(q.message);  // refused for now: again, same id
            } else if (q.kind == Pending::Kind::kFetch && reply->status()) {
                if (auto list = reply->list("messages"))
                    for (const auto& bytes : *list) handed(u, bytes);
            }
        }
        c.pending = std::move(waiting);
        for (size_t index : again) ++result_.retries, send(index);
        if (!c.inbox.to_ack.empty()) {
            ask(u, "inbox.ack", {{"messages", c.inbox.to_ack}}, {Pending::Kind::kAck, 0, 0, {}});
            c.inbox.to_ack.clear();
        }
        if (now >= c.next_fetch) {
            ask(u, "inbox.fetch", {{"max", uint64_t{256}}}, {Pending::Kind::kFetch, 0, 0, {}});
            c.next_fetch = now + kFetchEvery;
        }
    }

    SimNodes& sim_;
    const size_t nodes_;
    const MessageWorkloadConfig config_;
    std::mt19937_64 rng_;
    std::vector<bool> up_;
    std::vector<Client> clients_;
    std::vector<Message> messages_;
    std::vector<ChurnEvent> events_;
    size_t next_message_ = 0, next_event_ = 0;
    SteadyTime t0_{};
    MessageWorkloadResult result_;
};

}  // namespace

Result<MessageWorkloadResult> run_message_workload(SimNodes& sim, size_t nodes, const MessageWorkloadConfig& config,
                                                   const std::vector<std::shared_ptr<dht::crypto::PrivateKey>>& user_keys,
                                                   const std::function<void(double, double)>& progress) {
    if (nodes < 2 || config.users < 2 || user_keys.size() < config.users)
        return Status::invalid("the workload needs two nodes, two users and a key per user");
    Workload w(sim, nodes, config);
    DHTALK_TRY(w.register_users(user_keys));
    w.plan();
    DHTALK_TRY(w.run(progress));
    return w.result();
}

}  // namespace dhtalk
