#pragma once
// A dhtalk-swarm scenario: the network, its links, its churn, its workload
// and its phases, read from an INI file (sections [network], [link],
// [churn], [workload], [time]) with the same keys as command-line options
// ("--churn.model weibull"), the command line winning. Every value is
// checked; an error names the key.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "sim/swarm/churn_model.h"

namespace dhtalk {

struct Scenario {
    // [network]
    size_t nodes = 8;
    size_t users_per_node = 5;
    std::string founding = "vote";  // vote (each admitted in turn, as in life) or prepared (sim_ops.h)
    std::string strategy = "dht";  // dht, broadcast or full (record_strategies.h)
    double cache_ttl_s = 600;      // broadcast: how long a node keeps another's record
    // [link]: one-way latency of every datagram
    std::string latency = "lognormal";  // constant, lognormal or uniform
    double latency_ms = 20;             // the median (constant: the value)
    double latency_sigma = 0.3;         // lognormal: sigma of ln latency
    double min_latency_ms = 1;          // lognormal: clamp; uniform: range
    double max_latency_ms = 500;
    double loss = 0;                    // i.i.d. per datagram
    double burst_enter = 0;             // Gilbert-Elliott: good -> bad per datagram (0: no bursts)
    double burst_leave = 0.1;           // bad -> good per datagram
    double burst_loss = 0.5;            // loss while bad
    double uplink_kbit_s = 0;           // each node's sending capacity; 0: none
    size_t regions = 1;                 // nodes are spread over them in turn
    std::string region_latency_ms = "0";  // regions x regions extra one-way ms, rows by ';', e.g. "0,60;60,0"
    // [churn]
    SessionModel churn = SessionModel::kNone;
    double median_session_s = 3600;
    double session_shape = 0.5;     // Weibull k, Pareto alpha, log-normal sigma
    double median_downtime_s = 60;  // exponential, between a departure and the restart
    double leave_share = 0.5;       // departures that are graceful; the rest crash
    double mass_failure_at_s = -1;  // into the measurement phase; < 0: none
    double mass_failure_share = 0;  // of the running nodes, crashed at once
    // A flash crowd: flash_crowd_share of the nodes are away from the start
    // of the warm-up and all join at flash_crowd_at_s into the measurement.
    double flash_crowd_at_s = -1;   // < 0: none
    double flash_crowd_share = 0;
    // [partition]: from partition_at_s into the measurement, for heal_s,
    // partition_share of the nodes hear nothing from the rest, nor they from them.
    double partition_at_s = -1;
    double partition_heal_s = 60;
    double partition_share = 0.5;
    // [presence]: the node's setting of the same name
    size_t presence_directory_replicas = 2;
    // [workload]: per second in the whole network
    double resolves_per_s = 2;
    double vcards_per_s = 0.2;
    double presence_per_s = 0.5;
    double messages_per_s = 1;
    size_t watches_per_user = 3;
    double popularity = 1.0;  // Zipf exponent over users for resolves and watches
    // [time]
    double warmup_s = 30;
    double measure_s = 120;
    double drain_s = 30;  // after the measurement: answers and deliveries come in

    uint64_t seed = 1;
    size_t trials = 1;
};

// Reads `path` (may be empty) and then `overrides` ("--key", "value", ...).
// The error is one line naming the bad key.
Result<Scenario> parse_scenario(const std::string& path, const std::vector<std::string>& overrides);

// [link] region-latency-ms as a regions x regions matrix of milliseconds.
Result<std::vector<std::vector<double>>> region_latencies(const Scenario& s);

// The scenario's options, for --help.
std::string scenario_help();

// The scenario as "key = value" lines in INI sections: what a run used,
// for manifest.json and its hash.
std::string scenario_text(const Scenario& s);

}  // namespace dhtalk
