// What a node reports: its status document (GET /status) and the admin
// API's answers (pending changes, votes). Read by the status server's thread.
#include "node/node.h"

#include <cstdio>
#include <map>

#include "dhtalk_version.h"

namespace dhtalk {

using namespace std::chrono;

namespace {

// "YYYY-MM-DD" of a day counted from 1970-01-01.
std::string format_day(uint32_t day) {
    const year_month_day ymd{sys_days{days{day}}};
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                  static_cast<unsigned>(ymd.day()));
    return buf;
}

}  // namespace

std::vector<MemberView> Node::membership() const {
    if (!gossip_) return {};
    return gossip_->members();
}

NodeStatus Node::status() {
    NodeStatus s;
    s.node_id = identity_.node_id_hex();
    s.network_id = network_id();
    s.network = network_name();
    s.version = DHTALK_VERSION;
    s.standing = trust_ ? standing_name(trust_->standing()) : "open";
    if (trust_) {
        s.roster_epoch = trust_->epoch();
        s.members = trust_->member_count();
        s.pending = trust_->pending_count();
    }
    s.uptime_s = static_cast<uint64_t>(duration_cast<seconds>(clock_.now() - started_).count());
    if (Overlay* o = live_overlay_.load()) {
        const auto st = o->stats();
        s.peers_ipv4 = st.peers_ipv4;
        s.peers_ipv6 = st.peers_ipv6;
        s.values_stored = st.values_stored;
        s.bytes_stored = st.bytes_stored;
        s.requests_in = st.requests_in;
        s.requests_out = st.requests_out;
        s.datagrams_in = st.datagrams_in;
        s.datagrams_out = st.datagrams_out;
        s.bytes_in = st.bytes_in;
        s.bytes_out = st.bytes_out;
        s.datagrams_refused = st.datagrams_refused;
    }
    if (client_server_) {
        const auto cs = client_server_->stats();
        s.client_sessions = cs.sessions;
        s.client_users = cs.logged_in;
        s.client_requests = cs.requests;
        s.client_refused = cs.refused_connections + cs.failed_handshakes + cs.rate_limited + cs.malformed;
    }
    if (gossip_) {
        const auto ps = gossip_->stats();
        s.members_alive = ps.members_alive;
        s.members_suspect = ps.members_suspect;
        s.members_dead = ps.members_dead;
        s.presence_sent = ps.presence_sent;
        s.presence_received = ps.presence_received;
        s.presence_refused = ps.refused;
        s.membership_bytes_out = ps.membership_bytes_out;
        s.presence_bytes_out = ps.presence_bytes_out;
    }
    if (media_) {
        const auto held = media_->held();
        s.media_chunks = held.chunks;
        s.media_bytes = held.bytes;
    }
    s.records_accepted = record_policy_->accepted;
    s.records_refused = record_policy_->refused;
    s.values_accepted = policy_->accepted;
    s.values_refused = policy_->refused;
    s.snapshots = snapshots_;
    s.snapshot_failures = snapshot_failures_;
    const WorkQueueStats& work = env_.drivers->work_queues();
    s.work_queued = work.queued;
    s.work_queue_deepest = work.deepest;
    s.work_refused = work.refused;
    return s;
}

Result<Json::Value> Node::admin_pending() {
    if (!trust_) return Status::invalid("this node runs a plain open network: there is no roster");
    auto v = trust_->pending_json();
    v["self"] = identity_.node_id_hex();
    // What the membership protocol sees of each member: liveness and load.
    if (gossip_) {
        std::map<std::string, MemberView> seen;
        for (auto& m : gossip_->members()) seen[m.id] = m;
        for (auto& m : v["members"]) {
            auto it = seen.find(m["node_id"].asString());
            if (it == seen.end()) continue;
            m["liveness"] = member_state_name(it->second.state);
            m["incarnation"] = Json::UInt64(it->second.incarnation);
            m["sessions"] = it->second.sessions;
            m["capacity"] = it->second.capacity;
        }
    }
    v["standing"] = standing_name(trust_->standing());
    return v;
}

Status Node::admin_vote(const Json::Value& r) {
    if (!trust_) return Status::invalid("this node runs a plain open network: there is no roster");
    const std::string change = r["change"].isString() ? r["change"].asString() : "";
    const std::string decision = r["decision"].isString() ? r["decision"].asString() : "";
    const std::string subject = r["node_id"].isString() ? r["node_id"].asString() : "";
    const std::string reason = r["reason"].isString() ? r["reason"].asString() : "";
    if (change != "admit" && change != "ban") return Status::invalid("change must be admit or ban");
    if (decision != "approve" && decision != "reject") return Status::invalid("decision must be approve or reject");
    if (subject.size() != 40 || subject.find_first_not_of("0123456789abcdef") != std::string::npos)
        return Status::invalid("node_id must be 40 lowercase hex digits");
    if (reason.size() > kMaxTextBytes) return Status::invalid("the reason is too long");
    return trust_->vote(change == "ban" ? ChangeKind::kBan : ChangeKind::kAdmit, subject,
                        decision == "approve" ? Decision::kApprove : Decision::kReject, reason);
}

Result<Json::Value> Node::admin_audit(uint32_t days) {
    if (!trust_ || !audit_) return Status::invalid("this node runs a plain open network: there is no roster");
    const AuditReport report = audit_->gather(days);
    Json::Value v(Json::objectValue);
    v["first_day"] = format_day(report.first_day);
    v["members_asked"] = Json::UInt64(report.members_asked);
    v["truncated"] = report.truncated;
    v["unanswered"] = Json::Value(Json::arrayValue);
    for (const auto& u : report.unanswered) v["unanswered"].append(u);
    // Per member of the roster (and any issuer no longer in it), per day.
    std::map<std::string, std::string> contacts;
    for (const auto& m : trust_->members()) contacts[m.node_id] = m.contact;
    Json::Value issuers(Json::objectValue);
    for (const auto& c : report.counts) {
        Json::Value& issuer = issuers[c.issuer];
        if (issuer.isNull()) {
            issuer["node_id"] = c.issuer;
            issuer["member"] = contacts.count(c.issuer) > 0;
            if (contacts.count(c.issuer)) issuer["contact"] = contacts[c.issuer];
            issuer["certificates"] = 0;
            issuer["days"] = Json::Value(Json::arrayValue);
        }
        Json::Value day(Json::objectValue);
        day["day"] = format_day(c.day);
        day["certificates"] = Json::UInt64(c.certificates);
        day["users"] = Json::UInt64(c.users);
        day["at_least"] = c.at_least;
        issuer["days"].append(day);
        issuer["certificates"] = Json::UInt64(issuer["certificates"].asUInt64() + c.certificates);
    }
    // Members that issued nothing are listed too: a silent member is news.
    for (const auto& [id, contact] : contacts)
        if (!issuers.isMember(id)) {
            Json::Value& issuer = issuers[id];
            issuer["node_id"] = id;
            issuer["member"] = true;
            issuer["contact"] = contact;
            issuer["certificates"] = 0;
            issuer["days"] = Json::Value(Json::arrayValue);
        }
    v["issuers"] = Json::Value(Json::arrayValue);
    for (const auto& id : issuers.getMemberNames()) v["issuers"].append(issuers[id]);
    return v;
}

}  // namespace dhtalk
