#pragma once
// One trial of a dhtalk-swarm scenario (scenario.h) on whole simulated
// nodes (sim/sim_nodes.h): the nodes are founded and admitted by vote, the
// users register through them and log in, publish a vCard and watch their
// contacts' presence; then, for the warm-up and the measurement, resolves,
// vCard updates, presence changes and messages arrive as Poisson processes
// at the scenario's rates while nodes come and go as its churn says, and a
// drain lets the last answers come in. Each operation and each churn event
// is one SwarmEvent.
//
// Everything draws from the seed: a trial replays in any process of the
// same program (docs/simulation.md). Only one trial per process at a time.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"
#include "sim/swarm/scenario.h"

namespace dhtalk {

struct SwarmEvent {
    double t_s = 0;         // virtual seconds since the measurement began (< 0: the warm-up)
    int64_t node = -1;      // the node it happened on or through; -1: none
    int64_t user = -1;      // the user who acted; -1: none
    std::string kind;       // resolve, put, presence, message, crash, leave, restart, detect
    std::string outcome;    // ok, not-found, error, timeout, delivered, missed, lost, restarted-first
    double latency_ms = -1; // -1: none
    uint64_t ref = 0;       // resolve: the user resolved; presence: the change
    bool home_down = false; // resolve: the target's home node was down
};

struct SwarmTrial {
    std::vector<SwarmEvent> events;
    size_t nodes = 0, users = 0;
    double measure_s = 0;
    // Over the measurement, in the whole network.
    uint64_t bytes_sent = 0, datagrams_sent = 0;
    uint64_t datagrams_lost = 0;  // by the link, or sent to a node that was down
    double mean_nodes_up = 0;
    // Looks at a running node's view of another running one that found it
    // dead, and all such looks (failure_watch.h).
    uint64_t false_alarms = 0, alarm_pairs = 0;
    size_t redelivered = 0;  // message copies handed over again (the client drops them)
    std::vector<double> bytes_per_node_per_s;  // each second of the measurement
    std::map<std::string, uint64_t> bytes_by_kind;  // over the measurement (traffic_meter.h)
    std::vector<double> stored_bytes_per_node;  // each running node's, at the measurement's end
    std::vector<double> queue_depths;  // jobs waiting at each running node, each second (queue_meter.h)
    uint64_t work_refused = 0;         // jobs refused by a full queue, over the measurement
    uint64_t digest = 0;  // SimNetwork::history_digest(): equal runs, equal digests
    // Wall seconds of founding, registering and running (warm-up,
    // measurement, drain): they differ from run to run, so they go to
    // manifest.json, not summary.json.
    double wall_founding_s = 0, wall_registering_s = 0, wall_running_s = 0;
};

// `phase` is "founding", "registering", "warm-up", "measuring" or
// "draining"; `done_s` and `total_s` count virtual seconds of the whole run
// after setup.
using SwarmProgress = std::function<void(const char* phase, double done_s, double total_s)>;

// Runs trial `trial` (seed: scenario.seed + trial) with its data under `dir`.
Result<SwarmTrial> run_swarm_trial(const Scenario& scenario, size_t trial, const std::filesystem::path& dir,
                                   const SwarmProgress& progress = {});

}  // namespace dhtalk
