#include "sim/swarm/scenario.h"

#include <cmath>
#include <sstream>
#include <type_traits>
#include <variant>

#include <boost/program_options.hpp>

#include "common/files.h"
#include "roster/roster_documents.h"

namespace po = boost::program_options;

namespace dhtalk {

namespace {

constexpr size_t kMaxScenarioBytes = 1 << 20;

// One key of the scenario: where its value goes, and what it means. The
// options, their checks and scenario_text() all come from this one table.
struct ScenarioKey {
    const char* name;  // "section.key"
    std::variant<size_t*, double*, std::string*, SessionModel*> target;  // size_t: uint64_t too
    const char* help;
    double min = 0, max = 0;  // numbers: the range; min == max: none
};

std::vector<ScenarioKey> keys(Scenario& s) {
    return {
        {"network.nodes", &s.nodes, "member nodes", 2, 100000},
        {"network.founding", &s.founding, "how the members come to be: vote (founded, then each applies and is admitted by vote, as in life) or prepared (the roster the vote would make, built beforehand: no waiting for votes)"},
        {"network.users-per-node", &s.users_per_node, "users registered through each node", 1, 10000},
        {"network.strategy", &s.strategy, "where records live: dht (dhtalk as built), broadcast (sent to every node, cached, asked around) or full (every node holds all)"},
        {"network.cache-ttl-s", &s.cache_ttl_s, "broadcast: seconds a node keeps a record another node sent it", 1, 1e7},
        {"link.latency", &s.latency, "one-way latency: constant, lognormal or uniform"},
        {"link.latency-ms", &s.latency_ms, "the latency's median (constant: its value)", 0, 10000},
        {"link.latency-sigma", &s.latency_sigma, "lognormal: sigma of ln latency", 0, 3},
        {"link.min-latency-ms", &s.min_latency_ms, "lognormal: the least latency; uniform: the range's start", 0, 10000},
        {"link.max-latency-ms", &s.max_latency_ms, "lognormal: the most latency; uniform: the range's end", 0, 60000},
        {"link.loss", &s.loss, "probability that a datagram is lost (independent)", 0, 0.9},
        {"link.burst-enter", &s.burst_enter, "bursty loss (Gilbert-Elliott): a sender's link turns bad with this probability per datagram (0: no bursts)", 0, 1},
        {"link.burst-leave", &s.burst_leave, "bursty loss: a bad link turns good again with this probability per datagram", 0.0001, 1},
        {"link.burst-loss", &s.burst_loss, "bursty loss: the share lost while bad", 0, 1},
        {"link.uplink-kbit-s", &s.uplink_kbit_s, "each node's sending capacity in kbit/s; a queue past 1 s drops (0: none)", 0, 1e8},
        {"link.regions", &s.regions, "regions the nodes are spread over in turn", 1, 64},
        {"link.region-latency-ms", &s.region_latency_ms, "extra one-way ms between regions: rows by ';', columns by ','"},
        {"churn.model", &s.churn, "node session times: none, weibull, pareto, lognormal or exponential"},
        {"churn.median-session-s", &s.median_session_s, "median seconds a node stays up", 1, 1e9},
        {"churn.shape", &s.session_shape, "Weibull k, Pareto alpha or log-normal sigma", 0.05, 20},
        {"churn.median-downtime-s", &s.median_downtime_s, "median seconds before a departed node restarts (exponential)", 1, 1e9},
        {"churn.leave-share", &s.leave_share, "share of departures that are graceful; the rest crash", 0, 1},
        {"churn.mass-failure-at-s", &s.mass_failure_at_s, "seconds into the measurement when many nodes crash at once (< 0: never)", -1, 1e9},
        {"churn.mass-failure-share", &s.mass_failure_share, "share of the running nodes that crash then", 0, 0.9},
        {"churn.flash-crowd-at-s", &s.flash_crowd_at_s, "seconds into the measurement when many nodes join at once (< 0: never)", -1, 1e9},
        {"churn.flash-crowd-share", &s.flash_crowd_share, "share of the nodes away until then, from the start of the warm-up", 0, 0.9},
        {"partition.at-s", &s.partition_at_s, "seconds into the measurement when the network splits (< 0: never)", -1, 1e9},
        {"partition.heal-s", &s.partition_heal_s, "seconds the split lasts", 1, 1e9},
        {"partition.share", &s.partition_share, "share of the nodes cut off from the rest", 0.01, 0.99},
        {"presence.directory-replicas", &s.presence_directory_replicas, "members that keep where each user is hosted (dhtalk-node --presence-directory-replicas)", 1, 8},
        {"workload.resolves-per-s", &s.resolves_per_s, "vCard resolves per second, network-wide", 0, 1e6},
        {"workload.vcards-per-s", &s.vcards_per_s, "vCard updates per second", 0, 1e6},
        {"workload.presence-per-s", &s.presence_per_s, "presence changes per second", 0, 1e6},
        {"workload.messages-per-s", &s.messages_per_s, "1:1 messages per second", 0, 1e6},
        {"workload.watches-per-user", &s.watches_per_user, "contacts whose presence each user watches", 0, 1000},
        {"workload.popularity", &s.popularity, "Zipf exponent of who is resolved and watched (0: uniform)", 0, 5},
        {"time.warmup-s", &s.warmup_s, "virtual seconds run and discarded before measuring", 0, 1e7},
        {"time.measure-s", &s.measure_s, "virtual seconds measured", 1, 1e7},
        {"time.drain-s", &s.drain_s, "virtual seconds after the measurement for answers and deliveries", 0, 1e6},
        {"run.seed", &s.seed, "seed of everything random in the run (trial k uses seed + k)"},
        {"run.trials", &s.trials, "independent runs, for confidence intervals", 1, 1000},
    };
}

std::string value_text(const ScenarioKey& k) {
    std::ostringstream out;
    std::visit(
        [&](auto* p) {
            using T = std::remove_pointer_t<decltype(p)>;
            if constexpr (std::is_same_v<T, SessionModel>) out << session_model_name(*p);
            else out << *p;
        },
        k.target);
    return out.str();
}

po::options_description describe(std::vector<ScenarioKey>& ks) {
    po::options_description o("Scenario keys ([section] then 'key = value' in the file; '--section.key VALUE' here)");
    for (auto& k : ks) {
        const std::string help = std::string(k.help) + " (default " + value_text(k) + ")";
        o.add_options()(k.name, po::value<std::string>(), help.c_str());
    }
    return o;
}

Status assign(const ScenarioKey& k, const std::string& text) {
    const std::string bad = "scenario key '" + std::string(k.name) + "': ";
    return std::visit(
        [&](auto* p) -> Status {
            using T = std::remove_pointer_t<decltype(p)>;
            if constexpr (std::is_same_v<T, std::string>) {
                *p = text;
                return Status::ok();
            } else if constexpr (std::is_same_v<T, SessionModel>) {
                auto m = parse_session_model(text);
                if (!m) return Status::invalid(bad + m.status().message());
                *p = *m;
                return Status::ok();
            } else {
                std::istringstream in(text);
                T v{};
                if (!(in >> v) || !(in >> std::ws).eof() || (std::is_unsigned_v<T> && text.find('-') != std::string::npos))
                    return Status::invalid(bad + "'" + text + "' is not a number of the right kind");
                if constexpr (std::is_floating_point_v<T>)
                    if (!std::isfinite(v)) return Status::invalid(bad + "'" + text + "' is not finite");
                if (k.min != k.max && (static_cast<double>(v) < k.min || static_cast<double>(v) > k.max)) {
                    std::ostringstream range;
                    range << k.min << ".." << k.max;
                    return Status::invalid(bad + text + " is out of range (" + range.str() + ")");
                }
                *p = v;
                return Status::ok();
            }
        },
        k.target);
}

Status check_choices(const Scenario& s) {
    if (s.founding != "vote" && s.founding != "prepared")
        return Status::invalid("scenario key 'network.founding': '" + s.founding + "' is not vote or prepared");
    if (s.nodes > kMaxMembers)
        return Status::invalid("scenario key 'network.nodes': a roster holds at most " + std::to_string(kMaxMembers) +
                               " members");
    if (s.strategy != "dht" && s.strategy != "broadcast" && s.strategy != "full")
        return Status::invalid("scenario key 'network.strategy': '" + s.strategy + "' is not dht, broadcast or full");
    if (s.latency != "constant" && s.latency != "lognormal" && s.latency != "uniform")
        return Status::invalid("scenario key 'link.latency': '" + s.latency + "' is not constant, lognormal or uniform");
    if (s.min_latency_ms > s.max_latency_ms)
        return Status::invalid("scenario key 'link.min-latency-ms': above link.max-latency-ms");
    if (auto matrix = region_latencies(s); !matrix) return matrix.status();
    if (s.mass_failure_share > 0 && s.mass_failure_at_s < 0)
        return Status::invalid("scenario key 'churn.mass-failure-share': set churn.mass-failure-at-s too");
    if (s.flash_crowd_share > 0 && s.flash_crowd_at_s < 0)
        return Status::invalid("scenario key 'churn.flash-crowd-share': set churn.flash-crowd-at-s too");
    return Status::ok();
}

}  // namespace

Result<std::vector<std::vector<double>>> region_latencies(const Scenario& s) {
    const std::string bad = "scenario key 'link.region-latency-ms': ";
    std::vector<std::vector<double>> rows;
    std::istringstream in(s.region_latency_ms);
    for (std::string row; std::getline(in, row, ';');) {
        rows.emplace_back();
        std::istringstream cells(row);
        for (std::string cell; std::getline(cells, cell, ',');) {
            std::istringstream c(cell);
            double ms = -1;
            if (!(c >> ms) || !(c >> std::ws).eof() || !std::isfinite(ms) || ms < 0 || ms > 10000)
                return Status::invalid(bad + "'" + cell + "' is not a number of milliseconds (0..10000)");
            rows.back().push_back(ms);
        }
    }
    if (s.regions == 1 && rows.size() == 1 && rows[0].size() == 1) return rows;
    if (rows.size() != s.regions)
        return Status::invalid(bad + std::to_string(rows.size()) + " rows for " + std::to_string(s.regions) + " regions");
    for (const auto& r : rows)
        if (r.size() != s.regions)
            return Status::invalid(bad + "a row of " + std::to_string(r.size()) + " for " + std::to_string(s.regions) + " regions");
    return rows;
}

Result<Scenario> parse_scenario(const std::string& path, const std::vector<std::string>& overrides) {
    Scenario s;
    auto ks = keys(s);
    const auto options = describe(ks);
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(overrides).options(options).run(), vm);
        if (!path.empty()) {
            auto text = read_file(path, kMaxScenarioBytes);
            if (!text) return Status::invalid("cannot read the scenario: " + text.status().message());
            std::istringstream in(*text);
            po::store(po::parse_config_file(in, options, /*allow_unregistered=*/false), vm);
        }
    } catch (const po::error& e) {
        return Status::invalid(std::string(path.empty() ? "" : path + ": ") + e.what());
    }
    for (const auto& k : ks)
        if (vm.count(k.name)) DHTALK_TRY(assign(k, vm[k.name].as<std::string>()));
    DHTALK_TRY(check_choices(s));
    return s;
}

std::string scenario_help() {
    Scenario s;
    auto ks = keys(s);
    std::ostringstream out;
    out << describe(ks);
    return out.str();
}

std::string scenario_text(const Scenario& scenario) {
    Scenario s = scenario;
    std::ostringstream out;
    std::string section;
    for (const auto& k : keys(s)) {
        const std::string name = k.name;
        const size_t dot = name.find('.');
        if (name.substr(0, dot) != section) {
            section = name.substr(0, dot);
            out << (out.tellp() > 0 ? "\n" : "") << "[" << section << "]\n";
        }
        out << name.substr(dot + 1) << " = " << value_text(k) << "\n";
    }
    return out.str();
}

}  // namespace dhtalk
