#pragma once
// dhtalk-swarm's plots, drawn by gnuplot (Debian's gnuplot-nox) from data
// files the tool writes next to them: latency CDFs, availability and
// delivery over time with the churn marked, bytes per node per second, and
// for `compare` the runs' CDFs and resolves over time overlaid. Without gnuplot on the PATH the
// data and scripts are still written, and the caller is told.

#include <filesystem>
#include <string>
#include <vector>

#include <json/value.h>

#include "common/status.h"

namespace dhtalk::swarm {

// Parses events.jsonl into one JSON object per line; a line that is not a
// JSON object is an error naming the line.
Result<std::vector<Json::Value>> read_events(const std::filesystem::path& events_jsonl);

// The plots of one run of `nodes` nodes into `plots_dir` from its events
// and its first trial's bytes per node per second. kNotFound when gnuplot is missing.
Status plot_run(const std::filesystem::path& plots_dir, const std::vector<Json::Value>& events,
                const Json::Value& bytes_per_node_per_s, size_t nodes, double measure_s);

struct ComparedRun {
    std::string label;
    std::vector<Json::Value> events;
};
// Runs overlaid: their latency CDFs (compare_cdf.png) and their first
// trials' resolves answered over time with the churn marked
// (compare_timeline.png). At most kMaxComparedRuns runs.
inline constexpr size_t kMaxComparedRuns = 5;
Status plot_compare(const std::filesystem::path& plots_dir, const std::vector<ComparedRun>& runs);

}  // namespace dhtalk::swarm
