#pragma once
// A messaging workload on whole simulated nodes (sim_nodes.h), with churn:
// the clients of bench/message_sim_bench and of the node-sim test. Users
// register, each through a node of its own, log in on another and follow
// their inbox as `dhtalk inbox --follow` does: pushes, a fetch every minute
// and at every login, each message acknowledged once seen. For `run`
// virtual seconds random pairs exchange `messages` messages at random
// times. The first half is calm; in the second, `churn` of the nodes crash,
// each at a random time, and restart 5 to 30 s later on the same store. A
// client whose node crashed fails over to another node at once (a crashed
// process's connections reset), sends again (same id) what it had not seen
// stored, and fetches. A drain with no new messages and no churn ends it.
// Everything draws from `seed`: a run replays (see sim_nodes.h).

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include <opendht/crypto.h>

#include "common/status.h"
#include "node/config.h"
#include "sim/sim_nodes.h"

namespace dhtalk {

struct MessageWorkloadConfig {
    size_t users = 1000;
    size_t messages = 2000;
    double churn = 0.1;  // share of the nodes that crash and restart
    std::chrono::seconds run{120};
    std::chrono::seconds drain{90};
    uint64_t seed = 1;
    NodeConfig base;  // what a restarted node runs with (its bootstrap is set)
};

struct MessageWorkloadResult {
    size_t sent = 0;
    size_t stored = 0;      // answered "stored" to their sender
    size_t delivered = 0;   // a first copy reached the recipient
    size_t lost = 0;        // stored, never delivered
    size_t redelivered = 0; // copies handed over after the first (the client drops them)
    size_t churned = 0;     // nodes that crashed and restarted
    size_t failovers = 0;   // clients that logged in elsewhere after their node crashed
    size_t retries = 0;     // sends made again with the same id
    // First send to first copy at the recipient, in virtual milliseconds.
    std::vector<double> calm_latency_ms, churn_latency_ms;
};

// Runs the workload on the founded network of slots [0, nodes) with one key
// per user (made before the simulation's seeded entropy began, so that a
// run replays). `progress` is told the virtual seconds done and in all.
Result<MessageWorkloadResult> run_message_workload(SimNodes& sim, size_t nodes, const MessageWorkloadConfig& config,
                                                   const std::vector<std::shared_ptr<dht::crypto::PrivateKey>>& user_keys,
                                                   const std::function<void(double done_s, double total_s)>& progress = {});

}  // namespace dhtalk
