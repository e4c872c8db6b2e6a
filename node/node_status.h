#pragma once
// NodeStatus: one consistent reading of a node's figures, rendered as the
// JSON of GET /status and the Prometheus text of GET /metrics, and parsed
// back from JSON by `dhtalk status`. Plain value; no locking of its own.

#include <cstdint>
#include <string>

#include <json/json.h>

#include "common/status.h"

namespace dhtalk {

struct NodeStatus {
    std::string node_id;
    uint32_t network_id = 0;
    std::string network;
    std::string version;
    // In the trusted network: member, applicant or banned; "open" without a roster.
    std::string standing;
    uint64_t uptime_s = 0;
    uint64_t roster_epoch = 0;
    uint64_t members = 0;
    uint64_t pending = 0;  // open applications and ban proposals
    uint32_t peers_ipv4 = 0;
    uint32_t peers_ipv6 = 0;
    uint64_t values_stored = 0;
    uint64_t bytes_stored = 0;
    // Counters since start.
    uint64_t requests_in = 0;   // OpenDHT requests received (ping, find, get, listen, put)
    uint64_t requests_out = 0;  // and sent
    uint64_t datagrams_in = 0;
    uint64_t datagrams_out = 0;
    uint64_t bytes_in = 0;
    uint64_t bytes_out = 0;
    uint64_t datagrams_refused = 0;  // by the sealed transport
    uint64_t values_accepted = 0;  // stores and edits our policy let through
    uint64_t values_refused = 0;   // and refused
    uint64_t snapshots = 0;        // value snapshots written to the database
    uint64_t snapshot_failures = 0;
    // The client front end.
    uint64_t client_sessions = 0;   // open now
    uint64_t client_users = 0;      // open now and logged in
    uint64_t client_requests = 0;   // since start
    uint64_t client_refused = 0;    // connections over a limit, failed logins, rate-limited and malformed frames
    uint64_t records_accepted = 0;  // user records our policy let through from peers
    uint64_t records_refused = 0;   // and refused
    // Membership and presence.
    uint64_t members_alive = 0;     // other members, as this node's membership protocol sees them
    uint64_t members_suspect = 0;
    uint64_t members_dead = 0;
    uint64_t presence_sent = 0;     // presence datagrams sent to watching nodes
    uint64_t membership_bytes_out = 0;  // the membership protocol's payload bytes sent
    uint64_t presence_bytes_out = 0;    // presence payload bytes sent
    uint64_t media_chunks = 0;          // files' chunks held here for the network
    uint64_t media_bytes = 0;           // their bytes
    uint64_t presence_received = 0; // presence accepted for local watchers
    uint64_t presence_refused = 0;  // presence datagrams refused (forged, stale, malformed, non-members)
    // The workers' queues (requests to other nodes, the SMS gateway, snapshots).
    uint64_t work_queued = 0;         // jobs waiting now
    uint64_t work_queue_deepest = 0;  // the most one queue has held since start
    uint64_t work_refused = 0;        // jobs refused because their queue was full
};

Json::Value to_json(const NodeStatus& s);
// Checks types and fields: the JSON comes over the network.
Result<NodeStatus> node_status_from_json(const Json::Value& v);
std::string to_prometheus(const NodeStatus& s);
// Several lines for a person to read.
std::string to_text(const NodeStatus& s);

}  // namespace dhtalk
