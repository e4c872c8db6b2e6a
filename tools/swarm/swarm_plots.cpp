#include "tools/swarm/swarm_plots.h"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <fstream>
#include <map>


#include "common/files.h"
#include "common/json.h"

namespace dhtalk::swarm {

namespace {

namespace fs = std::filesystem;

constexpr size_t kMaxEventsBytes = size_t{1} << 30;
constexpr const char* kLatencyKinds[] = {"resolve", "put", "presence", "message"};
constexpr int kTimelineBins = 60;
// gnuplot's dash types 1, 2, 3, ... as compare's title names them.
constexpr const char* kDashNames[kMaxComparedRuns] = {"solid", "dashed", "dotted", "dash-dot", "dash-dot-dot"};

Status write(const fs::path& p, const std::string& text) { return write_file_atomic(p, text, 0644); }

// Sorted latencies of `kind`'s successful events as "ms fraction" lines.
std::string cdf_data(const std::vector<Json::Value>& events, const std::string& kind) {
    std::vector<double> ms;
    for (const auto& e : events)
        if (e["kind"].asString() == kind && e.isMember("latency_ms")) ms.push_back(e["latency_ms"].asDouble());
    std::sort(ms.begin(), ms.end());
    std::string out;
    for (size_t i = 0; i < ms.size(); ++i)
        out += std::to_string(ms[i]) + " " + std::to_string(static_cast<double>(i + 1) / static_cast<double>(ms.size())) + "\n";
    return out;
}

// Runs gnuplot on `script` in `dir`; kNotFound when it is not installed.
Status gnuplot(const fs::path& dir, const std::string& script) {
    const pid_t pid = ::fork();
    if (pid < 0) return Status::io_error("cannot start gnuplot");
    if (pid == 0) {
        if (::chdir(dir.c_str()) != 0) ::_exit(126);
        ::execlp("gnuplot", "gnuplot", script.c_str(), static_cast<char*>(nullptr));
        ::_exit(127);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
        return Status::not_found("gnuplot is not installed (apt-get install gnuplot-nox): the plots' data and scripts are in " +
                                 dir.string());
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return Status::internal("gnuplot failed on " + (dir / script).string());
    return Status::ok();
}

bool is_churn(const std::string& kind) {
    return kind == "crash" || kind == "leave" || kind == "restart" || kind == "partition" || kind == "heal";
}

// One trial's operations in kTimelineBins bins over [0, measure_s), each by
// its starting time: how many of each kind, and how many succeeded.
struct Bin { double resolves = 0, resolved = 0, messages = 0, delivered = 0, watchers = 0, seen = 0; };
std::vector<Bin> outcome_bins(const std::vector<Json::Value>& trial_events, double measure_s) {
    std::vector<Bin> bins(kTimelineBins);
    const double bin_s = measure_s / kTimelineBins;
    for (const auto& e : trial_events) {
        const double t = e["t_s"].asDouble();
        const std::string kind = e["kind"].asString();
        if (is_churn(kind) || t < 0 || t >= measure_s) continue;
        Bin& b = bins[std::min(kTimelineBins - 1, static_cast<int>(t / bin_s))];
        const bool ok = e["outcome"].asString() == "ok" || e["outcome"].asString() == "delivered";
        if (kind == "resolve") b.resolves += 1, b.resolved += ok;
        if (kind == "message") b.messages += 1, b.delivered += ok;
        if (kind == "presence") b.watchers += 1, b.seen += ok;
    }
    return bins;
}

std::string share(double part, double whole) { return whole > 0 ? std::to_string(part / whole) : std::string("NaN"); }

const char* kTerminal = "set terminal pngcairo size 900,560 font 'sans,10'\nset grid\nset key bottom right\n";

}  // namespace

Result<std::vector<Json::Value>> read_events(const fs::path& path) {
    auto text = read_file(path, kMaxEventsBytes);
    if (!text) return text.status();
    std::vector<Json::Value> events;
    size_t line = 0;
    for (size_t at = 0; at < text->size();) {
        size_t end = text->find('\n', at);
        if (end == std::string::npos) end = text->size();
        ++line;
        if (end > at) {
            auto v = json::parse_object(std::string_view(*text).substr(at, end - at));
            if (!v) return Status::corruption(path.string() + ":" + std::to_string(line) + ": not an event");
            events.push_back(std::move(v).value());
        }
        at = end + 1;
    }
    return events;
}

Status plot_run(const fs::path& dir, const std::vector<Json::Value>& events, const Json::Value& bytes_per_node_per_s,
                size_t nodes, double measure_s) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return Status::io_error("cannot create " + dir.string() + ": " + ec.message());
    std::vector<Json::Value> first;  // the timeline is one trial's: each has its own churn
    for (const auto& e : events)
        if (e["trial"].asUInt64() == 0) first.push_back(e);

    std::string cdf = std::string(kTerminal) + "set output 'latency_cdf.png'\nset title 'Latency (measurement phase, all trials)'\n"
                      "set xlabel 'ms'\nset ylabel 'fraction'\nset logscale x\nplot ";
    bool any = false;
    for (const char* kind : kLatencyKinds) {
        const std::string data = cdf_data(events, kind);
        if (data.empty()) continue;
        DHTALK_TRY(write(dir / (std::string("cdf-") + kind + ".dat"), data));
        cdf += std::string(any ? ", " : "") + "'cdf-" + kind + ".dat' using 1:2 with lines lw 2 title '" + kind + "'";
        any = true;
    }
    if (!any) cdf += "0 notitle";
    DHTALK_TRY(write(dir / "latency_cdf.gp", cdf + "\n"));

    // Per bin: resolves that succeeded, messages delivered (by sending
    // time), presence deliveries, and the nodes running at its start (the
    // churn events of the warm-up count too).
    const double bin_s = measure_s / kTimelineBins;
    const std::vector<Bin> bins = outcome_bins(first, measure_s);
    std::vector<std::pair<double, int>> up_changes;  // (time, +1 restart / -1 departure)
    std::string churn_marks;
    for (const auto& e : first) {
        const double t = e["t_s"].asDouble();
        const std::string kind = e["kind"].asString();
        const bool restart = kind == "restart";
        if (restart || kind == "crash" || kind == "leave") up_changes.emplace_back(t, restart ? 1 : -1);
        if (is_churn(kind) && t >= 0 && t < measure_s) churn_marks += std::to_string(t) + (restart ? " 1\n" : " 0\n");
    }
    std::sort(up_changes.begin(), up_changes.end());
    std::string timeline;
    int departed = 0;
    size_t next_change = 0;
    for (int i = 0; i < kTimelineBins; ++i) {
        const double start = i * bin_s;
        for (; next_change < up_changes.size() && up_changes[next_change].first <= start; ++next_change)
            departed -= up_changes[next_change].second;
        const Bin& b = bins[static_cast<size_t>(i)];
        timeline += std::to_string(start + bin_s / 2) + " " + share(b.resolved, b.resolves) + " " + share(b.delivered, b.messages) +
                    " " + share(b.seen, b.watchers) + " " + std::to_string(static_cast<int>(nodes) - departed) + "\n";
    }
    DHTALK_TRY(write(dir / "timeline.dat", timeline));
    DHTALK_TRY(write(dir / "churn.dat", churn_marks.empty() ? "NaN NaN\n" : churn_marks));
    DHTALK_TRY(write(dir / "timeline.gp",
                     std::string(kTerminal) +
                         "set output 'timeline.png'\nset title 'Availability and delivery over time (trial 0; churn marked)'\n"
                         "set xlabel 'virtual seconds into the measurement'\nset ylabel 'share'\nset yrange [0:1.05]\n"
                         "set y2label 'nodes running'\nset y2tics\nset y2range [0:" + std::to_string(nodes + 1) + "]\nset key bottom left\n"
                         "plot 'timeline.dat' using 1:2 with linespoints title 'resolves answered', "
                         "'timeline.dat' using 1:3 with linespoints title 'messages delivered', "
                         "'timeline.dat' using 1:4 with linespoints title 'presence delivered', "
                         "'timeline.dat' using 1:5 axes x1y2 with steps lw 2 title 'nodes running', "
                         "'churn.dat' using 1:(0.02) with impulses lc rgb 'red' title 'departure or restart'\n"));

    std::string traffic;
    for (Json::ArrayIndex i = 0; i < bytes_per_node_per_s.size(); ++i)
        traffic += std::to_string(i) + " " + std::to_string(bytes_per_node_per_s[i].asDouble()) + "\n";
    DHTALK_TRY(write(dir / "traffic.dat", traffic.empty() ? "NaN NaN\n" : traffic));
    DHTALK_TRY(write(dir / "traffic.gp",
                     std::string(kTerminal) +
                         "set output 'traffic.png'\nset title 'Bytes sent per node per second (trial 0, all kinds)'\n"
                         "set xlabel 'virtual seconds into the measurement'\nset ylabel 'bytes/s'\n"
                         "plot 'traffic.dat' using 1:2 with lines lw 2 notitle\n"));
    for (const char* script : {"latency_cdf.gp", "timeline.gp", "traffic.gp"}) DHTALK_TRY(gnuplot(dir, script));
    return Status::ok();
}

Status plot_compare(const fs::path& dir, const std::vector<ComparedRun>& runs) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return Status::io_error("cannot create " + dir.string() + ": " + ec.message());
    std::vector<std::string> labels;
    for (const auto& run : runs) {
        std::string label = run.label;
        for (char& c : label)  // a label inside gnuplot's quotes
            if (c == '\'' || c == '\\' || static_cast<unsigned char>(c) < 0x20) c = '_';
        labels.push_back(label);
    }

    // The CDFs: a colour per kind, a dash type per run.
    std::string title;
    for (size_t r = 0; r < runs.size(); ++r)
        title += (r ? ", " : "") + labels[r] + " (" + kDashNames[r] + ")";
    std::string cdf = std::string(kTerminal) + "set output 'compare_cdf.png'\nset title 'Latency: " + title +
                      "'\nset xlabel 'ms (a latency of 0 is left out)'\nset ylabel 'fraction'\nset logscale x\nplot ";
    bool any = false;
    int colour = 1;
    for (const char* kind : kLatencyKinds) {
        std::vector<std::string> data;
        for (const auto& run : runs) data.push_back(cdf_data(run.events, kind));
        if (std::all_of(data.begin(), data.end(), [](const std::string& d) { return d.empty(); })) continue;
        for (size_t r = 0; r < runs.size(); ++r) {
            const std::string file = std::to_string(r) + "-" + kind + ".dat";
            DHTALK_TRY(write(dir / file, data[r].empty() ? "NaN NaN\n" : data[r]));
            cdf += std::string(any ? ", " : "") + "'" + file + "' using 1:2 with lines lw 2 lc " + std::to_string(colour) +
                   " dt " + std::to_string(r + 1) + " title '" + kind + " " + labels[r] + "'";
            any = true;
        }
        ++colour;
    }
    if (!any) cdf += "0 notitle";
    DHTALK_TRY(write(dir / "compare_cdf.gp", cdf + "\n"));

    // Resolves answered over each run's first trial, its churn marked.
    std::string timeline = std::string(kTerminal) +
                           "set output 'compare_timeline.png'\nset title 'Resolves answered over time (trial 0; "
                           "the churn marked below, a row per run)'\nset xlabel 'virtual seconds into the measurement'\n"
                           "set ylabel 'share answered'\nset yrange [-0.12:1.05]\nset key bottom left\nplot ";
    for (size_t r = 0; r < runs.size(); ++r) {
        std::vector<Json::Value> first;
        double end_s = 0;
        for (const auto& e : runs[r].events) {
            if (e["trial"].asUInt64() != 0) continue;
            first.push_back(e);
            if (!is_churn(e["kind"].asString())) end_s = std::max(end_s, e["t_s"].asDouble());
        }
        const double measure_s = std::max(1.0, std::ceil(end_s));
        const std::vector<Bin> bins = outcome_bins(first, measure_s);
        std::string rows, marks;
        for (int i = 0; i < kTimelineBins; ++i)
            rows += std::to_string((i + 0.5) * measure_s / kTimelineBins) + " " +
                    share(bins[static_cast<size_t>(i)].resolved, bins[static_cast<size_t>(i)].resolves) + "\n";
        for (const auto& e : first)
            if (is_churn(e["kind"].asString()) && e["t_s"].asDouble() >= 0 && e["t_s"].asDouble() < measure_s)
                marks += std::to_string(e["t_s"].asDouble()) + "\n";
        const std::string n = std::to_string(r), c = std::to_string(r + 1);
        DHTALK_TRY(write(dir / (n + "-timeline.dat"), rows));
        DHTALK_TRY(write(dir / (n + "-churn.dat"), marks.empty() ? "NaN\n" : marks));
        timeline += std::string(r ? ", " : "") + "'" + n + "-timeline.dat' using 1:2 with linespoints lw 2 lc " + c + " title '" +
                    labels[r] + "', '" + n + "-churn.dat' using 1:(-0.02 * " + c + ") with points pt 7 ps 0.4 lc " + c + " notitle";
    }
    DHTALK_TRY(write(dir / "compare_timeline.gp", timeline + "\n"));
    DHTALK_TRY(gnuplot(dir, "compare_cdf.gp"));
    return gnuplot(dir, "compare_timeline.gp");
}

}  // namespace dhtalk::swarm
