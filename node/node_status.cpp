#include "node/node_status.h"

#include <sstream>

namespace dhtalk {
namespace {

// The counters and gauges, in one table shared by JSON, parsing and Prometheus.
struct Field {
    const char* name;
    uint64_t NodeStatus::*u64;
    uint32_t NodeStatus::*u32;
    const char* help;
    bool counter;
};

const Field kFields[] = {
    {"uptime_s", &NodeStatus::uptime_s, nullptr, "Seconds since the node started", false},
    {"roster_epoch", &NodeStatus::roster_epoch, nullptr, "Current roster epoch of the trusted network", false},
    {"members", &NodeStatus::members, nullptr, "Member nodes in the current roster", false},
    {"pending", &NodeStatus::pending, nullptr, "Open applications and ban proposals", false},
    {"peers_ipv4", nullptr, &NodeStatus::peers_ipv4, "Known IPv4 peers in the routing table", false},
    {"peers_ipv6", nullptr, &NodeStatus::peers_ipv6, "Known IPv6 peers in the routing table", false},
    {"values_stored", &NodeStatus::values_stored, nullptr, "DHT values stored for the network", false},
    {"bytes_stored", &NodeStatus::bytes_stored, nullptr, "Bytes of DHT values stored", false},
    {"requests_in", &NodeStatus::requests_in, nullptr, "DHT requests received", true},
    {"requests_out", &NodeStatus::requests_out, nullptr, "DHT requests sent", true},
    {"datagrams_in", &NodeStatus::datagrams_in, nullptr, "Datagrams received on the DHT socket", true},
    {"datagrams_out", &NodeStatus::datagrams_out, nullptr, "Datagrams sent on the DHT socket", true},
    {"bytes_in", &NodeStatus::bytes_in, nullptr, "Bytes received on the DHT socket", true},
    {"bytes_out", &NodeStatus::bytes_out, nullptr, "Bytes sent on the DHT socket", true},
    {"datagrams_refused", &NodeStatus::datagrams_refused, nullptr, "Datagrams refused by the sealed transport", true},
    {"values_accepted", &NodeStatus::values_accepted, nullptr, "Values accepted by the store policy", true},
    {"values_refused", &NodeStatus::values_refused, nullptr, "Values refused by the store policy", true},
    {"snapshots", &NodeStatus::snapshots, nullptr, "Value snapshots written to the database", true},
    {"snapshot_failures", &NodeStatus::snapshot_failures, nullptr, "Value snapshots that failed", true},
    {"client_sessions", &NodeStatus::client_sessions, nullptr, "Open client sessions", false},
    {"client_users", &NodeStatus::client_users, nullptr, "Open client sessions with a logged-in user", false},
    {"client_requests", &NodeStatus::client_requests, nullptr, "Client requests handled", true},
    {"client_refused", &NodeStatus::client_refused, nullptr, "Client connections, logins and frames refused", true},
    {"records_accepted", &NodeStatus::records_accepted, nullptr, "User records accepted from peers", true},
    {"records_refused", &NodeStatus::records_refused, nullptr, "User records refused from peers", true},
    {"members_alive", &NodeStatus::members_alive, nullptr, "Other members the membership protocol sees alive", false},
    {"members_suspect", &NodeStatus::members_suspect, nullptr, "Other members suspected of having failed", false},
    {"members_dead", &NodeStatus::members_dead, nullptr, "Other members declared dead", false},
    {"presence_sent", &NodeStatus::presence_sent, nullptr, "Presence datagrams sent to watching nodes", true},
    {"presence_received", &NodeStatus::presence_received, nullptr, "Presence accepted for local watchers", true},
    {"presence_refused", &NodeStatus::presence_refused, nullptr, "Presence datagrams refused", true},
    {"membership_bytes_out", &NodeStatus::membership_bytes_out, nullptr, "Membership protocol payload bytes sent", true},
    {"presence_bytes_out", &NodeStatus::presence_bytes_out, nullptr, "Presence payload bytes sent", true},
    {"media_chunks", &NodeStatus::media_chunks, nullptr, "Files' chunks held here for the network", false},
    {"media_bytes", &NodeStatus::media_bytes, nullptr, "Bytes of files' chunks held here", false},
    {"work_queued", &NodeStatus::work_queued, nullptr, "Jobs waiting in the workers' queues", false},
    {"work_queue_deepest", &NodeStatus::work_queue_deepest, nullptr, "The most jobs one worker's queue has held", false},
    {"work_refused", &NodeStatus::work_refused, nullptr, "Jobs refused because their worker's queue was full", true},
};

uint64_t get(const NodeStatus& s, const Field& f) { return f.u64 ? s.*(f.u64) : s.*(f.u32); }

}  // namespace

Json::Value to_json(const NodeStatus& s) {
    Json::Value v(Json::objectValue);
    v["node_id"] = s.node_id;
    v["network_id"] = s.network_id;
    v["network"] = s.network;
    v["version"] = s.version;
    v["standing"] = s.standing;
    for (const auto& f : kFields) v[f.name] = Json::UInt64(get(s, f));
    return v;
}

Result<NodeStatus> node_status_from_json(const Json::Value& v) {
    NodeStatus s;
    if (!v["node_id"].isString() || !v["network_id"].isUInt() || !v["version"].isString())
        return Status::invalid("status lacks node_id, network_id or version");
    s.node_id = v["node_id"].asString();
    s.network_id = v["network_id"].asUInt();
    s.network = v["network"].asString();
    s.version = v["version"].asString();
    s.standing = v["standing"].asString();
    for (const auto& f : kFields) {
        const auto& x = v[f.name];
        if (!x.isUInt64()) return Status::invalid(std::string("status field ") + f.name + " is missing or not a count");
        if (f.u64)
            s.*(f.u64) = x.asUInt64();
        else if (x.asUInt64() > UINT32_MAX)
            return Status::invalid(std::string("status field ") + f.name + " is out of range");
        else
            s.*(f.u32) = static_cast<uint32_t>(x.asUInt64());
    }
    return s;
}

std::string to_prometheus(const NodeStatus& s) {
    std::ostringstream os;
    os << "# HELP dhtalk_node_info Identity of this node (value is always 1)\n"
       << "# TYPE dhtalk_node_info gauge\n"
       << "dhtalk_node_info{node_id=\"" << s.node_id << "\",network_id=\"" << s.network_id << "\",version=\""
       << s.version << "\"} 1\n";
    for (const auto& f : kFields) {
        const std::string name = std::string("dhtalk_") + f.name + (f.counter ? "_total" : "");
        os << "# HELP " << name << " " << f.help << "\n"
           << "# TYPE " << name << " " << (f.counter ? "counter" : "gauge") << "\n"
           << name << " " << get(s, f) << "\n";
    }
    return os.str();
}

std::string to_text(const NodeStatus& s) {
    std::ostringstream os;
    os << "node       " << s.node_id << "\n"
       << "network    " << s.network << " (id " << s.network_id << ")\n"
       << "version    " << s.version << "\n"
       << "standing   " << s.standing << " (roster epoch " << s.roster_epoch << ", " << s.members << " members, "
       << s.pending << " pending)\n"
       << "uptime     " << s.uptime_s << " s\n"
       << "peers      " << s.peers_ipv4 << " IPv4, " << s.peers_ipv6 << " IPv6\n"
       << "stored     " << s.values_stored << " values, " << s.bytes_stored << " bytes\n"
       << "requests   " << s.requests_in << " in, " << s.requests_out << " out\n"
       << "datagrams  " << s.datagrams_in << " in (" << s.bytes_in << " bytes), " << s.datagrams_out << " out ("
       << s.bytes_out << " bytes)\n"
       << "policy     " << s.values_accepted << " accepted, " << s.values_refused << " refused\n"
       << "records    " << s.records_accepted << " accepted, " << s.records_refused << " refused\n"
       << "clients    " << s.client_sessions << " sessions (" << s.client_users << " logged in), " << s.client_requests
       << " requests, " << s.client_refused << " refused\n"
       << "members    " << s.members_alive << " alive, " << s.members_suspect << " suspect, " << s.members_dead
       << " dead (besides this node)\n"
       << "presence   " << s.presence_sent << " sent, " << s.presence_received << " received, " << s.presence_refused
       << " refused\n"
       << "snapshots  " << s.snapshots << " written, " << s.snapshot_failures << " failed\n";
    return os.str();
}

}  // namespace dhtalk
