// dhtalk-swarm: seeded swarms of whole dhtalk nodes on simulated time, for
// researchers. `run` plays a scenario (sim/swarm/scenario.h) for one or
// more trials, each in a child process of its own (a trial replays in any
// process; a child keeps one trial's memory from the next), and writes
// events.jsonl, summary.json, manifest.json and plots; `compare` puts two
// to five runs side by side. docs/simulation.md has the scenario keys and the
// figures' definitions.
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>


#include "common/files.h"
#include "common/json.h"
#include "common/log.h"
#include "dhtalk_version.h"
#include "sim/swarm/scenario.h"
#include "sim/swarm/swarm_run.h"
#include "sim/swarm/swarm_summary.h"
#include "tools/swarm/swarm_manifest.h"
#include "tools/swarm/swarm_plots.h"

namespace fs = std::filesystem;
using namespace dhtalk;

namespace {

const char* kUsage =
    "Usage:\n"
    "  dhtalk-swarm run SCENARIO.ini --out DIR [--seed N] [--trials K] [--keep-data] [--log-level L]\n"
    "                   [--in-process] [--section.key VALUE ...]\n"
    "  dhtalk-swarm compare DIR_A DIR_B [DIR_C ...] [--out DIR] [--json]\n"
    "  dhtalk-swarm --help | --version\n\n"
    "run      plays the scenario on whole dhtalk nodes (real OpenDHT, sealing, SWIM, presence,\n"
    "         messaging) in virtual time, K trials with seeds N, N+1, ...; writes to DIR:\n"
    "           events.jsonl   one line per operation and churn event (measurement phase; churn always)\n"
    "           summary.json   each figure's mean, 95% confidence interval and per-trial values\n"
    "           manifest.json  revision, seed, scenario and its SHA-256, OpenDHT version, host, wall time\n"
    "           scenario.ini   the scenario as run, every key included\n"
    "           plots/         latency_cdf.png, timeline.png, traffic.png (gnuplot)\n"
    "         The same scenario and seed give the same summary.json. Any scenario key may be given\n"
    "         on the command line, winning over the file (e.g. --churn.model weibull).\n"
    "         --keep-data keeps the nodes' data directories (DIR/trial-K); --log-level (default\n"
    "         error: debug, info, warning, error, off) shows the nodes' own log lines on stderr;\n"
    "         --in-process runs the (one) trial in this process, for a debugger or a profiler.\n"
    "compare  prints two to five runs' figures side by side, each beside its ratio to A's; with\n"
    "         --out it overlays their latency CDFs (DIR/compare_cdf.png) and their resolves answered\n"
    "         over time (DIR/compare_timeline.png); --json prints the table as JSON (a figure's\n"
    "         means as a, b, c, ..., B/A as ratio, C/A as ratio_c, ...).\n\n"
    "Exit status: 0 success, 1 failure, 2 usage or scenario error.\n\n";

constexpr size_t kMaxSummaryBytes = 64 << 20;

int usage_error(const std::string& message) {
    std::fprintf(stderr, "dhtalk-swarm: %s (see dhtalk-swarm --help)\n", message.c_str());
    return 2;
}

int failure(const std::string& message) {
    std::fprintf(stderr, "dhtalk-swarm: %s\n", message.c_str());
    return 1;
}

std::string json_text(const Json::Value& v) { return json::to_pretty(v) + "\n"; }

Result<Json::Value> read_json(const fs::path& path) {
    auto text = read_file(path, kMaxSummaryBytes);
    if (!text) return text.status();
    auto v = json::parse_object(*text, kMaxSummaryBytes);
    if (!v) return Status::corruption(path.string() + ": " + v.status().message());
    return v;
}

double wall_seconds_since(std::chrono::system_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::system_clock::now() - start).count();
}

// The progress line on a terminal: phase, virtual time, wall time, ETA.
SwarmProgress progress_line(size_t trial, size_t trials) {
    if (!::isatty(STDERR_FILENO)) return {};
    const auto start = std::chrono::system_clock::now();
    return [=, timed_from = -1.0](const char* phase, double done, double total) mutable {
        const double wall = wall_seconds_since(start);
        char line[200];
        const bool timed = std::strcmp(phase, "founding") != 0 && std::strcmp(phase, "registering") != 0;
        if (!timed) {
            std::snprintf(line, sizeof line, "trial %zu/%zu  %-11s %6.0f/%-6.0f  wall %6.0f s", trial + 1, trials, phase, done,
                          total, wall);
        } else {
            if (timed_from < 0) timed_from = wall;  // the ETA counts from the timed phases' start
            const double rate = done > 0 ? (wall - timed_from) / done : 0;
            std::snprintf(line, sizeof line, "trial %zu/%zu  %-11s virtual %6.0f/%.0f s  wall %6.0f s  ETA %5.0f s", trial + 1,
                          trials, phase, done, total, wall, rate * (total - done));
        }
        std::fprintf(stderr, "\r%-90s", line);
        std::fflush(stderr);
    };
}

// One trial in this process (a forked child), writing events-K.jsonl and
// trial-K.json in the current directory (the run's).
int run_trial(const Scenario& s, size_t k) {
    auto trial = run_swarm_trial(s, k, "trial-" + std::to_string(k), progress_line(k, s.trials));
    if (::isatty(STDERR_FILENO)) std::fprintf(stderr, "\n");
    if (!trial) return failure("trial " + std::to_string(k) + " failed: " + trial.status().message());
    std::string lines;
    for (const auto& e : trial->events) lines += event_line(e, k) + "\n";
    Json::Value out(Json::objectValue);
    out["figures"] = trial_figures(*trial);
    out["seed"] = static_cast<Json::UInt64>(s.seed + k);
    out["digest"] = std::to_string(trial->digest);
    out["wall_s"]["founding"] = trial->wall_founding_s;
    out["wall_s"]["registering"] = trial->wall_registering_s;
    out["wall_s"]["running"] = trial->wall_running_s;
    for (double b : trial->bytes_per_node_per_s) out["bytes_per_node_per_s"].append(b);
    if (Status st = write_file_atomic("events-" + std::to_string(k) + ".jsonl", lines, 0644); !st) return failure(st.message());
    if (Status st = write_file_atomic("trial-" + std::to_string(k) + ".json", json_text(out), 0644); !st) return failure(st.message());
    return 0;
}

// Runs trial k in a child process whose working directory is `out` (or,
// `in_process`, in this one, for a debugger or a profiler).
bool fork_trial(const Scenario& s, size_t k, const fs::path& out, bool in_process) {
    std::fflush(nullptr);
    if (in_process) return ::chdir(out.c_str()) == 0 && run_trial(s, k) == 0;
    const pid_t pid = ::fork();
    if (pid < 0) return false;
    if (pid == 0) {
        // Relative paths from here on: the run does not depend on where DIR is.
        if (::chdir(out.c_str()) != 0) ::_exit(1);
        ::_exit(run_trial(s, k));
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

void print_figures(const Json::Value& figures) {
    for (const auto& name : figures.getMemberNames()) {
        const Json::Value& f = figures[name];
        if (f["trials"].size() > 1) std::printf("  %-34s %14.3f  ± %.3f\n", name.c_str(), f["mean"].asDouble(), f["ci95"].asDouble());
        else std::printf("  %-34s %14.3f\n", name.c_str(), f["mean"].asDouble());
    }
}

// Each trial in turn, its events appended to DIR/events.jsonl as it ends
// (a long run's events outgrow memory); its figures, seed, digest and wall
// times, in order.
Result<std::vector<Json::Value>> run_trials(const Scenario& s, const fs::path& out, bool in_process, bool keep_data) {
    std::vector<Json::Value> trials;
    std::ofstream events(out / "events.jsonl", std::ios::binary | std::ios::trunc);
    for (size_t k = 0; k < s.trials; ++k) {
        if (!fork_trial(s, k, out, in_process))
            return Status::internal("trial " + std::to_string(k) + " failed (seed " + std::to_string(s.seed + k) + ")");
        auto trial = read_json(out / ("trial-" + std::to_string(k) + ".json"));
        if (!trial) return trial.status();
        trials.push_back(std::move(trial).value());
        const fs::path piece = out / ("events-" + std::to_string(k) + ".jsonl");
        std::ifstream in(piece, std::ios::binary);
        events << in.rdbuf();
        if (!in || !events) return Status::io_error("cannot add " + piece.string() + " to events.jsonl");
        std::error_code ec;
        fs::remove(piece, ec);
        fs::remove(out / ("trial-" + std::to_string(k) + ".json"), ec);
        if (!keep_data) fs::remove_all(out / ("trial-" + std::to_string(k)), ec);
    }
    events.close();
    if (!events) return Status::io_error("cannot write " + (out / "events.jsonl").string());
    return trials;
}

// summary.json, manifest.json, scenario.ini and the plots, then the
// figures on stdout.
Status write_run(const Scenario& s, const fs::path& out, const std::vector<Json::Value>& trials, double wall_s) {
    std::vector<Json::Value> figures;
    Json::Value summary(Json::objectValue);
    summary["scenario_sha256"] = scenario_sha256(s);
    summary["seed"] = static_cast<Json::UInt64>(s.seed);
    summary["trials"] = static_cast<Json::UInt64>(s.trials);
    for (const auto& t : trials) {
        figures.push_back(t["figures"]);
        Json::Value per(Json::objectValue);
        per["seed"] = t["seed"];
        per["digest"] = t["digest"];
        summary["per_trial"].append(per);
    }
    summary["figures"] = fold_trials(figures);
    Json::Value run_manifest = manifest(s, wall_s);
    for (const auto& t : trials) run_manifest["trials_wall_s"].append(t["wall_s"]);
    for (const auto& [name, text] : std::vector<std::pair<std::string, std::string>>{
             {"summary.json", json_text(summary)},
             {"manifest.json", json_text(run_manifest)},
             {"scenario.ini", scenario_text(s)}})
        DHTALK_TRY(write_file_atomic(out / name, text, 0644));

    // Plots are a view of the run: without gnuplot, or with more events
    // than read_events() takes, the run stands without them.
    auto parsed = swarm::read_events(out / "events.jsonl");
    Status plotted = parsed ? swarm::plot_run(out / "plots", *parsed, trials[0]["bytes_per_node_per_s"], s.nodes, s.measure_s)
                            : parsed.status();
    if (!plotted && parsed && plotted.code() != Code::kNotFound) return plotted;
    if (!plotted) std::fprintf(stderr, "dhtalk-swarm: no plots: %s\n", plotted.message().c_str());

    std::printf("measurement phase (%.0f virtual s%s):\n", s.measure_s, s.trials > 1 ? "; mean ± 95% confidence" : "");
    print_figures(summary["figures"]);
    const Json::Value& w = trials[0]["wall_s"];
    std::printf("wall time %.1f s (trial 1: founding %.1f s, registering %.1f s, running %.1f s); wrote events.jsonl, "
                "summary.json, manifest.json, scenario.ini%s\n",
                wall_s, w["founding"].asDouble(), w["registering"].asDouble(), w["running"].asDouble(), plotted ? ", plots/" : "");
    return Status::ok();
}

int run(const std::vector<std::string>& args) {
    std::string scenario_path, out_arg;
    bool keep_data = false, in_process = false;
    std::vector<std::string> overrides;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        auto value = [&](const char* name) -> Result<std::string> {
            if (i + 1 >= args.size()) return Status::invalid(std::string(name) + " needs a value");
            return args[++i];
        };
        if (a == "--out") {
            auto v = value("--out");
            if (!v) return usage_error(v.status().message());
            out_arg = *v;
        } else if (a == "--seed" || a == "--trials") {
            auto v = value(a.c_str());
            if (!v) return usage_error(v.status().message());
            overrides.push_back(a == "--seed" ? "--run.seed" : "--run.trials");
            overrides.push_back(*v);
        } else if (a == "--keep-data") {
            keep_data = true;
        } else if (a == "--in-process") {
            in_process = true;
        } else if (a == "--log-level") {
            auto v = value("--log-level");
            if (!v) return usage_error(v.status().message());
            auto level = log::parse_level(*v);
            if (!level) return usage_error(level.status().message());
            log::set_level(*level);
        } else if (a.rfind("--", 0) == 0) {
            overrides.push_back(a);
            if (i + 1 < args.size() && a.find('=') == std::string::npos) overrides.push_back(args[++i]);
        } else if (scenario_path.empty()) {
            scenario_path = a;
        } else {
            return usage_error("unexpected argument '" + a + "'");
        }
    }
    if (scenario_path.empty()) return usage_error("run needs a scenario file");
    if (out_arg.empty()) return usage_error("run needs --out DIR");
    auto scenario = parse_scenario(scenario_path, overrides);
    if (!scenario) return usage_error(scenario.status().message());
    const Scenario& s = *scenario;
    if (in_process && s.trials != 1) return usage_error("--in-process runs one trial");

    std::error_code ec;
    const fs::path out = fs::absolute(out_arg, ec);
    fs::create_directories(out, ec);
    if (ec) return failure("cannot create " + out.string() + ": " + ec.message());
    if (fs::exists(out / "summary.json")) return usage_error(out.string() + " holds a run already: choose another --out");

    const auto started = std::chrono::system_clock::now();
    std::printf("dhtalk-swarm: %zu nodes, %zu users, strategy %s, churn %s, %zu trial%s from seed %llu, into %s\n", s.nodes,
                s.nodes * s.users_per_node, s.strategy.c_str(), session_model_name(s.churn), s.trials, s.trials == 1 ? "" : "s",
                static_cast<unsigned long long>(s.seed), out.string().c_str());
    std::fflush(stdout);
    auto trials = run_trials(s, out, in_process, keep_data);
    if (!trials) return failure(trials.status().message());
    if (Status st = write_run(s, out, *trials, wall_seconds_since(started)); !st) return failure(st.message());
    return 0;
}

int compare(const std::vector<std::string>& args) {
    std::vector<std::string> dirs;
    std::string out_arg;
    bool json = false;
    for (size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "--json") json = true;
        else if (args[i] == "--out" && i + 1 < args.size()) out_arg = args[++i];
        else if (args[i].rfind("--", 0) == 0) return usage_error("compare: unknown option '" + args[i] + "'");
        else dirs.push_back(args[i]);
    }
    if (dirs.size() < 2 || dirs.size() > swarm::kMaxComparedRuns)
        return usage_error("compare needs two to " + std::to_string(swarm::kMaxComparedRuns) + " run directories");
    std::vector<Json::Value> runs;
    for (const auto& dir : dirs) {
        auto summary = read_json(fs::path(dir) / "summary.json");
        if (!summary) return failure(summary.status().message());
        if (!(*summary)["figures"].isObject()) return failure(dir + "/summary.json has no figures");
        runs.push_back(std::move(summary).value());
    }
    // Runs are A, B, C, ...; each figure of B, C, ... also as a ratio to A's.
    auto letter = [](size_t r) { return std::string(1, static_cast<char>('a' + r)); };
    auto ratio_key = [&](size_t r) { return r == 1 ? std::string("ratio") : "ratio_" + letter(r); };
    std::set<std::string> names;
    for (const auto& r : runs)
        for (const auto& n : r["figures"].getMemberNames()) names.insert(n);
    Json::Value table(Json::objectValue);
    if (!json) {
        std::printf("%-34s", "figure");
        for (size_t r = 0; r < runs.size(); ++r) std::printf(" %16c", 'A' + static_cast<int>(r));
        for (size_t r = 1; r < runs.size(); ++r) std::printf(" %6c/A", 'A' + static_cast<int>(r));
        std::printf("\n");
    }
    for (const auto& n : names) {
        const Json::Value& a = runs[0]["figures"][n];
        Json::Value row(Json::objectValue);
        std::string cells, ratios;
        for (size_t r = 0; r < runs.size(); ++r) {
            const Json::Value& f = runs[r]["figures"][n];
            char buf[40] = "-";
            if (f.isObject()) {
                row[letter(r)] = f["mean"], row[letter(r) + "_ci95"] = f["ci95"];
                std::snprintf(buf, sizeof buf, "%.3f", f["mean"].asDouble());
            }
            cells += " " + std::string(16 - std::min<size_t>(16, std::strlen(buf)), ' ') + buf;
            if (r == 0) continue;
            char ratio[24] = "-";
            if (f.isObject() && a.isObject() && a["mean"].asDouble() != 0) {
                row[ratio_key(r)] = f["mean"].asDouble() / a["mean"].asDouble();
                std::snprintf(ratio, sizeof ratio, "%.3f", row[ratio_key(r)].asDouble());
            }
            ratios += " " + std::string(8 - std::min<size_t>(8, std::strlen(ratio)), ' ') + ratio;
        }
        table[n] = row;
        if (!json) std::printf("%-34s%s%s\n", n.c_str(), cells.c_str(), ratios.c_str());
    }
    if (json) std::fputs(json_text(table).c_str(), stdout);
    if (!out_arg.empty()) {
        std::vector<swarm::ComparedRun> plotted;
        for (const auto& dir : dirs) {
            auto events = swarm::read_events(fs::path(dir) / "events.jsonl");
            if (!events) return failure(events.status().message());
            plotted.push_back({fs::path(dir).filename().string(), std::move(events).value()});
        }
        if (Status st = swarm::plot_compare(out_arg, plotted); !st) return failure(st.message());
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const std::vector<std::string> args(argv + (argc > 1 ? 2 : 1), argv + argc);
    const std::string command = argc > 1 ? argv[1] : "";
    if (command == "--help" || command == "-h" || command == "help") {
        std::fputs(kUsage, stdout);
        std::fputs(scenario_help().c_str(), stdout);
        return 0;
    }
    if (command == "--version") {
        std::printf("dhtalk-swarm %s\n", DHTALK_VERSION);
        return 0;
    }
    // The nodes' routine lines would bury the progress and the figures.
    log::set_level(log::Level::kError);
    try {
        if (command == "run") return run(args);
        if (command == "compare") return compare(args);
    } catch (const Json::Exception& e) {
        // A run's files edited or damaged: a figure or an event of the wrong type.
        return failure(std::string("a run's JSON does not have the expected form: ") + e.what());
    }
    return usage_error(command.empty() ? "a command is needed (run, compare)" : "unknown command '" + command + "'");
}
