#include "sim/swarm/swarm_summary.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "common/json.h"

namespace dhtalk {

namespace {

// Nearest rank on sorted values.
double percentile(std::vector<double> v, double q) {
    std::sort(v.begin(), v.end());
    const size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(v.size())));
    return v[std::min(v.size() - 1, rank == 0 ? 0 : rank - 1)];
}

void latencies(Json::Value& out, const std::string& prefix, const std::vector<double>& v, bool p90 = true) {
    if (v.empty()) return;
    out[prefix + ".latency_p50_ms"] = percentile(v, 0.5);
    if (p90) out[prefix + ".latency_p90_ms"] = percentile(v, 0.9);
    out[prefix + ".latency_p99_ms"] = percentile(v, 0.99);
}

void ratio(Json::Value& out, const std::string& name, size_t part, size_t whole) {
    if (whole > 0) out[name] = static_cast<double>(part) / static_cast<double>(whole);
}

// Student's t at 97.5% for `df` degrees of freedom (two-sided 95%).
double t975(size_t df) {
    static const double table[] = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
                                   2.201,  2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
                                   2.080,  2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042};
    return df >= 1 && df <= 30 ? table[df - 1] : 1.96;
}

}  // namespace

Json::Value trial_figures(const SwarmTrial& t) {
    Json::Value out(Json::objectValue);
    size_t resolves = 0, resolved = 0, home_down = 0, home_down_resolved = 0, puts = 0, put_ok = 0;
    size_t sent = 0, delivered = 0, lost = 0, not_stored = 0, crashes = 0, leaves = 0, restarts = 0;
    size_t crashes_watched = 0;
    std::vector<double> resolve_ms, put_ms, message_ms, detect_ms;
    std::map<uint64_t, std::vector<double>> changes;  // change -> delivery latencies (-1: missed)
    for (const auto& e : t.events) {
        if (e.kind == "resolve") {
            ++resolves;
            const bool ok = e.outcome == "ok";
            resolved += ok;
            if (ok) resolve_ms.push_back(e.latency_ms);
            if (e.home_down) ++home_down, home_down_resolved += ok;
        } else if (e.kind == "put") {
            ++puts;
            if (e.outcome == "ok") ++put_ok, put_ms.push_back(e.latency_ms);
        } else if (e.kind == "presence") {
            changes[e.ref].push_back(e.outcome == "delivered" ? e.latency_ms : -1);
        } else if (e.kind == "detect") {
            ++crashes_watched;
            if (e.outcome == "ok") detect_ms.push_back(e.latency_ms);
        } else if (e.kind == "message") {
            ++sent;
            if (e.outcome == "delivered") ++delivered, message_ms.push_back(e.latency_ms);
            lost += e.outcome == "lost";
            not_stored += e.outcome == "not-stored";
        } else if (e.t_s >= 0 && e.t_s < t.measure_s) {  // churn: the warm-up's is in the events too
            crashes += e.kind == "crash";
            leaves += e.kind == "leave";
            restarts += e.kind == "restart";
        }
    }
    out["run.nodes"] = static_cast<Json::UInt64>(t.nodes);
    out["run.users"] = static_cast<Json::UInt64>(t.users);
    out["run.measure_s"] = t.measure_s;

    out["resolve.count"] = static_cast<Json::UInt64>(resolves);
    ratio(out, "resolve.success_ratio", resolved, resolves);
    latencies(out, "resolve", resolve_ms);
    out["resolve.home_down.count"] = static_cast<Json::UInt64>(home_down);
    ratio(out, "resolve.home_down.success_ratio", home_down_resolved, home_down);

    out["put.count"] = static_cast<Json::UInt64>(puts);
    ratio(out, "put.success_ratio", put_ok, puts);
    latencies(out, "put", put_ms, false);

    // Presence: per change, the time by which 50%, 99% and all of the
    // watchers online when it changed had it; the median over the changes
    // that got that far.
    size_t expected = 0, got = 0, complete = 0;
    std::vector<double> t50, t99, t100;
    for (const auto& change : changes) {
        const std::vector<double>& ms = change.second;
        expected += ms.size();
        std::vector<double> seen;
        for (double m : ms)
            if (m >= 0) seen.push_back(m);
        got += seen.size();
        std::sort(seen.begin(), seen.end());
        auto by = [&](double share, std::vector<double>& into) {
            const size_t need = static_cast<size_t>(std::ceil(share * static_cast<double>(ms.size())));
            if (need >= 1 && seen.size() >= need) into.push_back(seen[need - 1]);
        };
        by(0.5, t50);
        by(0.99, t99);
        by(1.0, t100);
        complete += seen.size() == ms.size();
    }
    out["presence.changes"] = static_cast<Json::UInt64>(changes.size());
    out["presence.expected"] = static_cast<Json::UInt64>(expected);
    ratio(out, "presence.delivery_ratio", got, expected);
    ratio(out, "presence.complete_ratio", complete, changes.size());
    if (!t50.empty()) out["presence.time_to_50_ms"] = percentile(t50, 0.5);
    if (!t99.empty()) out["presence.time_to_99_ms"] = percentile(t99, 0.5);
    if (!t100.empty()) out["presence.time_to_100_ms"] = percentile(t100, 0.5);

    out["message.sent"] = static_cast<Json::UInt64>(sent);
    out["message.delivered"] = static_cast<Json::UInt64>(delivered);
    out["message.lost"] = static_cast<Json::UInt64>(lost);
    out["message.not_stored"] = static_cast<Json::UInt64>(not_stored);
    out["message.duplicated"] = static_cast<Json::UInt64>(t.redelivered);
    ratio(out, "message.delivery_ratio", delivered, sent);
    latencies(out, "message", message_ms);

    out["churn.crashes"] = static_cast<Json::UInt64>(crashes);
    out["churn.leaves"] = static_cast<Json::UInt64>(leaves);
    out["churn.restarts"] = static_cast<Json::UInt64>(restarts);
    out["nodes.mean_up"] = t.mean_nodes_up;
    out["failure.crashes_watched"] = static_cast<Json::UInt64>(crashes_watched);
    out["failure.detected"] = static_cast<Json::UInt64>(detect_ms.size());
    if (!detect_ms.empty()) {
        out["failure.detection_p50_ms"] = percentile(detect_ms, 0.5);
        out["failure.detection_p99_ms"] = percentile(detect_ms, 0.99);
    }
    ratio(out, "failure.false_alarm_ratio", t.false_alarms, t.alarm_pairs);

    const double node_seconds = static_cast<double>(t.nodes) * t.measure_s;
    out["traffic.bytes_per_node_per_s"] = static_cast<double>(t.bytes_sent) / node_seconds;
    out["traffic.datagrams_per_node_per_s"] = static_cast<double>(t.datagrams_sent) / node_seconds;
    for (const auto& [kind, bytes] : t.bytes_by_kind)
        out["traffic." + kind + "_bytes_per_node_per_s"] = static_cast<double>(bytes) / node_seconds;
    // Lost on the link or sent to a node that was down.
    ratio(out, "traffic.dropped_ratio", t.datagrams_lost, t.datagrams_sent);
    if (!t.stored_bytes_per_node.empty()) {
        double sum = 0, most = 0;
        for (double b : t.stored_bytes_per_node) sum += b, most = std::max(most, b);
        out["storage.bytes_per_node_mean"] = sum / static_cast<double>(t.stored_bytes_per_node.size());
        out["storage.bytes_per_node_max"] = most;
    }
    if (!t.queue_depths.empty()) {
        out["queues.depth_p50"] = percentile(t.queue_depths, 0.5);
        out["queues.depth_p99"] = percentile(t.queue_depths, 0.99);
        out["queues.depth_max"] = *std::max_element(t.queue_depths.begin(), t.queue_depths.end());
    }
    out["queues.refused"] = static_cast<Json::UInt64>(t.work_refused);
    return out;
}

Json::Value fold_trials(const std::vector<Json::Value>& trials) {
    std::map<std::string, std::vector<double>> values;
    for (const auto& t : trials)
        for (const auto& name : t.getMemberNames()) values[name].push_back(t[name].asDouble());
    Json::Value out(Json::objectValue);
    for (const auto& [name, v] : values) {
        double mean = 0;
        for (double x : v) mean += x;
        mean /= static_cast<double>(v.size());
        double ci = 0;
        if (v.size() > 1) {
            double ss = 0;
            for (double x : v) ss += (x - mean) * (x - mean);
            ci = t975(v.size() - 1) * std::sqrt(ss / static_cast<double>(v.size() - 1)) / std::sqrt(static_cast<double>(v.size()));
        }
        Json::Value f(Json::objectValue);
        f["mean"] = mean;
        f["ci95"] = ci;
        for (double x : v) f["trials"].append(x);
        out[name] = f;
    }
    return out;
}

std::string event_line(const SwarmEvent& e, size_t trial) {
    Json::Value v(Json::objectValue);
    v["trial"] = static_cast<Json::UInt64>(trial);
    v["t_s"] = std::round(e.t_s * 1e6) / 1e6;
    if (e.node >= 0) v["node"] = static_cast<Json::Int64>(e.node);
    if (e.user >= 0) v["user"] = static_cast<Json::Int64>(e.user);
    v["kind"] = e.kind;
    v["outcome"] = e.outcome;
    if (e.latency_ms >= 0) v["latency_ms"] = std::round(e.latency_ms * 1000) / 1000;
    if (e.kind == "resolve" || e.kind == "presence") v["ref"] = static_cast<Json::UInt64>(e.ref);
    if (e.home_down) v["home_down"] = true;
    return json::to_compact(v);
}

}  // namespace dhtalk
