#pragma once
// What a dhtalk-swarm run reports: each trial's measured figures as one flat
// JSON object of named numbers ("resolve.latency_p50_ms": 41.2), the trials
// folded into means with 95% confidence intervals (Student's t over the
// trials), and each event as one JSON line for events.jsonl.

#include <string>
#include <vector>

#include <json/value.h>

#include "sim/swarm/swarm_run.h"

namespace dhtalk {

// The trial's figures over its measurement phase. Latencies are of the
// operations that succeeded; a figure with nothing to measure is left out.
Json::Value trial_figures(const SwarmTrial& trial);

// {"figure": {"mean": m, "ci95": half-width, "trials": [...]}, ...}: each
// figure any trial has, over the trials that have it (ci95 is 0 with one).
Json::Value fold_trials(const std::vector<Json::Value>& trials);

// One line of events.jsonl (no newline).
std::string event_line(const SwarmEvent& e, size_t trial);

}  // namespace dhtalk
