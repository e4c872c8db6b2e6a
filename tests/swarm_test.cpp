// dhtalk-swarm: the session-time models, the scenario parser's checks, and
// the tool itself on scenarios/quick.ini: the run's invariants without
// churn, the same summary from the same seed in two processes (and two
// output folders), compare, and the errors a researcher meets.
#include <algorithm>
#include <filesystem>
#include <sstream>

#include <json/json.h>

#include "doctest.h"
#include "sim/swarm/churn_model.h"
#include "sim/swarm/scenario.h"
#include "testing/test_util.h"

using namespace dhtalk;
using namespace std::chrono_literals;

namespace {

double median_of(SessionModel model, double median_s, double shape) {
    Rng rng(11);
    const SessionTimes times(model, median_s, shape);
    std::vector<double> v;
    for (int i = 0; i < 20001; ++i) v.push_back(times.draw(rng).value());
    std::nth_element(v.begin(), v.begin() + 10000, v.end());
    return v[10000];
}

Json::Value parse_json(const std::string& text) {
    Json::Value v;
    std::istringstream in(text);
    in >> v;
    return v;
}

std::string swarm_bin() { return test::program_path("DHTALK_SWARM_BIN"); }
std::string quick_ini() { return test::program_path("DHTALK_SCENARIOS") + "/quick.ini"; }

}  // namespace

TEST_CASE("each session model draws around its median; none never ends a session") {
    for (SessionModel m : {SessionModel::kWeibull, SessionModel::kPareto, SessionModel::kLogNormal, SessionModel::kExponential}) {
        CAPTURE(session_model_name(m));
        CHECK(median_of(m, 3600, 0.5) == doctest::Approx(3600).epsilon(0.05));
    }
    Rng rng(1);
    CHECK_FALSE(SessionTimes(SessionModel::kNone, 60, 1).draw(rng).has_value());
    CHECK_FALSE(parse_session_model("poisson"));
}

TEST_CASE("a scenario: defaults, the file, and the command line winning over it") {
    test::TempDir dir;
    test::write_text(dir / "s.ini", "[network]\nnodes = 20\n[churn]\nmodel = pareto\nshape = 1.5\n");
    auto s = parse_scenario((dir / "s.ini").string(), {"--network.nodes", "30", "--run.seed", "9"});
    REQUIRE_MESSAGE(s, s.status().message());
    CHECK(s->nodes == 30);
    CHECK(s->churn == SessionModel::kPareto);
    CHECK(s->session_shape == 1.5);
    CHECK(s->seed == 9);
    CHECK(s->users_per_node == Scenario{}.users_per_node);
    // What ran, written back, reads the same.
    test::write_text(dir / "back.ini", scenario_text(*s));
    auto back = parse_scenario((dir / "back.ini").string(), {});
    REQUIRE(back);
    CHECK(scenario_text(*back) == scenario_text(*s));
}

TEST_CASE("a malformed scenario is refused with the bad key named") {
    test::TempDir dir;
    struct Case {
        const char* text;
        const char* names;
    } cases[] = {
        {"[network]\nnodes = many\n", "network.nodes"},
        {"[network]\nnodes = 1\n", "network.nodes"},
        {"[network]\nnodes = -4\n", "network.nodes"},
        {"[network]\nstrategy = gossip\n", "network.strategy"},
        {"[network]\nflavour = 3\n", "network.flavour"},
        {"[churn]\nmodel = poisson\n", "churn.model"},
        {"[link]\nloss = nan\n", "link.loss"},
        {"[link]\nloss = 2\n", "link.loss"},
        {"[link]\nlatency = fast\n", "link.latency"},
        {"[churn]\nmass-failure-share = 0.3\n", "churn.mass-failure-share"},
        {"[time]\nmeasure-s = 0\n", "time.measure-s"},
        {"nodes\n", "nodes"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.text);
        test::write_text(dir / "bad.ini", c.text);
        auto s = parse_scenario((dir / "bad.ini").string(), {});
        REQUIRE_FALSE(s);
        CHECK(test::contains(s.status().message(), c.names));
    }
    CHECK_FALSE(parse_scenario((dir / "missing.ini").string(), {}));
    CHECK_FALSE(parse_scenario("", {"--network.nodes", "x"}));
}

TEST_CASE("dhtalk-swarm runs the quick scenario: nothing lost, every resolve answered, and the same summary again") {
    test::TempDir dir;
    auto a = test::run({swarm_bin(), "run", quick_ini(), "--out", (dir / "a").string()}, dir.path(), 120s);
    REQUIRE_MESSAGE(a.status == 0, a.err);
    // Another folder, of another length: the run must not depend on it.
    auto b = test::run({swarm_bin(), "run", quick_ini(), "--out", (dir / "second-run").string()}, dir.path(), 120s);
    REQUIRE_MESSAGE(b.status == 0, b.err);
    const std::string summary = test::read_text(dir / "a" / "summary.json");
    CHECK(summary == test::read_text(dir / "second-run" / "summary.json"));

    const Json::Value f = parse_json(summary)["figures"];
    auto mean = [&](const char* name) {
        REQUIRE_MESSAGE(f.isMember(name), name);
        return f[name]["mean"].asDouble();
    };
    CHECK(mean("message.sent") > 20);
    CHECK(mean("message.delivered") == mean("message.sent"));
    CHECK(mean("message.lost") == 0);
    CHECK(mean("message.duplicated") == 0);
    CHECK(mean("resolve.count") > 50);
    CHECK(mean("resolve.success_ratio") == 1.0);
    CHECK(mean("put.success_ratio") == 1.0);
    CHECK(mean("presence.delivery_ratio") == 1.0);
    CHECK(mean("churn.crashes") == 0);
    CHECK(mean("traffic.bytes_per_node_per_s") > 0);

    // Every line of events.jsonl is an event of a known kind, in time order.
    std::istringstream events(test::read_text(dir / "a" / "events.jsonl"));
    size_t lines = 0;
    double last_t = -1e9;
    for (std::string line; std::getline(events, line); ++lines) {
        const Json::Value e = parse_json(line);
        const std::string kind = e["kind"].asString();
        CHECK((kind == "resolve" || kind == "put" || kind == "presence" || kind == "message"));
        CHECK(e["t_s"].asDouble() >= last_t);
        last_t = e["t_s"].asDouble();
    }
    CHECK(lines > 100);

    const Json::Value manifest = parse_json(test::read_text(dir / "a" / "manifest.json"));
    for (const char* key : {"revision", "seed", "scenario", "scenario_sha256", "opendht_version", "host", "wall_s"})
        CHECK_MESSAGE(manifest.isMember(key), key);
    CHECK(manifest["scenario_sha256"] == parse_json(summary)["scenario_sha256"]);
    CHECK(std::filesystem::exists(dir / "a" / "plots" / "latency_cdf.png"));
    CHECK(std::filesystem::exists(dir / "a" / "plots" / "timeline.png"));

    // The same run compared with itself: every ratio is 1.
    auto cmp = test::run({swarm_bin(), "compare", (dir / "a").string(), (dir / "second-run").string(), "--json", "--out",
                          (dir / "cmp").string()},
                         dir.path());
    REQUIRE_MESSAGE(cmp.status == 0, cmp.err);
    const Json::Value table = parse_json(cmp.out);
    CHECK(table["resolve.latency_p50_ms"]["ratio"].asDouble() == 1.0);
    CHECK(std::filesystem::exists(dir / "cmp" / "compare_cdf.png"));

    // A finished run is not overwritten.
    auto again = test::run({swarm_bin(), "run", quick_ini(), "--out", (dir / "a").string()}, dir.path());
    CHECK(again.status == 2);
    CHECK(test::contains(again.err, "holds a run already"));
}

TEST_CASE("dhtalk-swarm: a bad scenario key is one line naming it, with exit status 2") {
    test::TempDir dir;
    test::write_text(dir / "bad.ini", "[workload]\nmessages-per-s = lots\n");
    auto r = test::run({swarm_bin(), "run", (dir / "bad.ini").string(), "--out", (dir / "out").string()}, dir.path());
    CHECK(r.status == 2);
    CHECK(test::contains(r.err, "workload.messages-per-s"));
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK_FALSE(std::filesystem::exists(dir / "out" / "summary.json"));

    auto unknown = test::run({swarm_bin(), "run", quick_ini(), "--out", (dir / "o").string(), "--churn.colour", "red"}, dir.path());
    CHECK(unknown.status == 2);
    CHECK(test::contains(unknown.err, "churn.colour"));
    CHECK(test::run({swarm_bin(), "run", quick_ini()}, dir.path()).status == 2);
    CHECK(test::run({swarm_bin(), "compare", (dir / "nothing").string(), (dir / "none").string()}, dir.path()).status == 1);
    auto help = test::run({swarm_bin(), "--help"}, dir.path());
    CHECK(help.status == 0);
    CHECK(test::contains(help.out, "churn.median-session-s"));
}
