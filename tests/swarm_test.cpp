// dhtalk-swarm: the session-time models, the scenario parser's checks, and
// the tool itself on scenarios/quick.ini: the run's invariants without
// churn, the same summary from the same seed in two processes (and two
// output folders), compare, and the errors a researcher meets.
#include <algorithm>
#include <filesystem>
#include <sstream>

#include <json/json.h>

#include "doctest.h"
#include "roster/roster_documents.h"
#include "sim/sim_network.h"
#include "sim/swarm/churn_model.h"
#include "sim/swarm/record_strategies.h"
#include "sim/swarm/scenario.h"
#include "sim/swarm/zipf.h"
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

// The overlay under a strategy's door: the issuance log, which these tests
// do not touch.
class NoOverlay final : public RecordDht {
public:
    void put_record(const dht::InfoHash&, RecordType, const std::string&, std::function<void(bool)> done) override { done(false); }
    void get_records(const dht::InfoHash&, RecordType, std::function<void(std::string_view)>, std::function<void()> done) override {
        done();
    }
    void put_issued(const std::string&, const std::string&, std::function<void(bool)> done) override { done(false); }
    void get_issued(const std::string&, std::function<void(std::string_view)>, std::function<void()> done) override { done(); }
};

// Five nodes of a strategy on a network with 10 ms links, all running.
struct StrategyNet {
    explicit StrategyNet(StrategyKind kind, std::chrono::seconds ttl = std::chrono::seconds(600))
        : network(link()), strategy(make_record_strategy(kind, network, 5, ttl)) {
        for (size_t i = 0; i < 5; ++i) strategy->started(i);
    }
    static LinkConfig link() {
        LinkConfig c;
        c.median_latency = std::chrono::milliseconds(10);
        c.latency_sigma = 0;
        return c;
    }
    bool put(size_t node, const std::string& envelope) {
        std::optional<bool> stored;
        strategy->door(node, overlay)->put_record(key, RecordType::kVCard, envelope, [&](bool ok) { stored = ok; });
        network.run_until_true([&] { return stored.has_value(); }, std::chrono::seconds(10));
        return stored.value_or(false);
    }
    // What a get through `node` found ("" for nothing), and how long it took.
    std::pair<std::string, std::chrono::nanoseconds> get(size_t node) {
        std::string found;
        bool done = false;
        const auto start = network.now();
        strategy->door(node, overlay)->get_records(key, RecordType::kVCard, [&](std::string_view e) { found = e; },
                                                   [&] { done = true; });
        network.run_until_true([&] { return done; }, std::chrono::seconds(10));
        REQUIRE(done);
        return {found, network.now() - start};
    }
    SimNetwork network;
    NoOverlay overlay;
    std::unique_ptr<RecordStrategy> strategy;
    const dht::InfoHash key = dht::InfoHash::get("a record");
};

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

TEST_CASE("Zipf popularity: the most popular of 100 users is drawn about 1/H(100) of the time; exponent 0 is uniform") {
    Rng rng(3);
    Zipf skewed(100, 1.0, rng), flat(100, 0.0, rng);
    std::vector<int> skewed_counts(100), flat_counts(100);
    for (int i = 0; i < 100'000; ++i) ++skewed_counts[skewed.draw(rng)], ++flat_counts[flat.draw(rng)];
    // H(100) = 5.187: the first rank takes 19.3%, the last 0.19%.
    CHECK(*std::max_element(skewed_counts.begin(), skewed_counts.end()) / 100'000.0 == doctest::Approx(0.193).epsilon(0.05));
    CHECK(*std::min_element(skewed_counts.begin(), skewed_counts.end()) < 400);
    CHECK(*std::max_element(flat_counts.begin(), flat_counts.end()) < 1'200);
    CHECK(*std::min_element(flat_counts.begin(), flat_counts.end()) > 800);
}

TEST_CASE("full replication: every node answers from its own copy; a restarted node copies what it missed") {
    StrategyNet net(StrategyKind::kFull);
    REQUIRE(net.put(0, "v1"));
    net.network.run_for(std::chrono::seconds(1));
    for (size_t i = 0; i < 5; ++i) {
        auto [found, took] = net.get(i);
        CHECK(found == "v1");
        CHECK(took == std::chrono::nanoseconds(0));  // no message leaves the node
        CHECK(net.strategy->stored_bytes(i) == 2);
    }
    net.strategy->stopped(3);
    REQUIRE(net.put(1, "v2"));
    net.network.run_for(std::chrono::seconds(1));
    CHECK(net.get(3).first == "v1");  // what it held when it stopped: it missed v2
    net.strategy->started(3);
    net.network.run_for(std::chrono::seconds(1));
    CHECK(net.get(3).first == "v2");  // copied from a running node
}

TEST_CASE("broadcast: copies are cached until they expire, then the get asks around; a stopped owner takes its record along") {
    StrategyNet net(StrategyKind::kBroadcast, std::chrono::seconds(30));
    REQUIRE(net.put(0, "v1"));
    net.network.run_for(std::chrono::seconds(1));
    auto [cached, quick] = net.get(2);
    CHECK(cached == "v1");
    CHECK(quick == std::chrono::nanoseconds(0));
    net.network.run_for(std::chrono::seconds(40));  // node 2's copy expired; node 0 still owns it
    CHECK(net.strategy->stored_bytes(2) == 0);
    auto [asked, round_trip] = net.get(2);
    CHECK(asked == "v1");
    CHECK(round_trip >= std::chrono::milliseconds(20));
    net.network.run_for(std::chrono::seconds(40));
    net.strategy->stopped(0);  // the only node that keeps it for good
    net.strategy->stopped(2);  // and a restart empties node 2's cache
    net.strategy->started(2);
    CHECK(net.get(2).first.empty());
    net.strategy->started(0);
    CHECK(net.get(2).first == "v1");  // the owner kept it on disk
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
        {"[network]\nfounding = elected\n", "network.founding"},
        {"[network]\nflavour = 3\n", "network.flavour"},
        {"[churn]\nmodel = poisson\n", "churn.model"},
        {"[link]\nloss = nan\n", "link.loss"},
        {"[link]\nloss = 2\n", "link.loss"},
        {"[link]\nlatency = fast\n", "link.latency"},
        {"[churn]\nmass-failure-share = 0.3\n", "churn.mass-failure-share"},
        {"[churn]\nflash-crowd-share = 0.3\n", "churn.flash-crowd-share"},
        {"[churn]\nflash-crowd-at-s = 10\nflash-crowd-share = 0.95\n", "churn.flash-crowd-share"},
        {"[time]\nmeasure-s = 0\n", "time.measure-s"},
        {"[link]\nregions = 2\n", "link.region-latency-ms"},
        {"[link]\nregions = 2\nregion-latency-ms = 0,10;10\n", "link.region-latency-ms"},
        {"[link]\nregion-latency-ms = fast\n", "link.region-latency-ms"},
        {"[partition]\nshare = 1\n", "partition.share"},
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
    // Past a roster's members.
    auto past = parse_scenario("", {"--network.nodes", std::to_string(kMaxMembers + 1)});
    REQUIRE_FALSE(past);
    CHECK(test::contains(past.status().message(), "network.nodes"));
    CHECK(parse_scenario("", {"--network.nodes", std::to_string(kMaxMembers)}));
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
    // Delivery is at least once: a fetch that crosses an acknowledgement
    // still on its way to the holders (the peer service takes the links'
    // time) hands a message over again, and the client drops the copy. Far
    // more copies would mean acknowledgements are not heeded.
    CHECK(mean("message.duplicated") <= mean("message.sent") / 4);
    // The peer service takes the links' time (20 ms one way): a message
    // crosses it at least twice, to a holder and on to the recipient's node.
    CHECK(mean("message.latency_p50_ms") >= 30);
    CHECK(mean("resolve.count") > 50);
    CHECK(mean("resolve.success_ratio") == 1.0);
    CHECK(mean("put.success_ratio") == 1.0);
    CHECK(mean("presence.delivery_ratio") == 1.0);
    CHECK(mean("churn.crashes") == 0);
    CHECK(mean("failure.false_alarm_ratio") == 0);
    CHECK(mean("traffic.bytes_per_node_per_s") > 0);
    // Nothing waits long enough to be refused at 4 users a node.
    CHECK(mean("queues.refused") == 0);
    CHECK(mean("queues.depth_max") >= mean("queues.depth_p99"));

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
    for (const char* key : {"revision", "seed", "scenario", "scenario_sha256", "opendht_version", "host", "wall_s", "trials_wall_s"})
        CHECK_MESSAGE(manifest.isMember(key), key);
    CHECK(manifest["scenario_sha256"] == parse_json(summary)["scenario_sha256"]);
    CHECK(std::filesystem::exists(dir / "a" / "plots" / "latency_cdf.png"));
    CHECK(std::filesystem::exists(dir / "a" / "plots" / "timeline.png"));

    // The same run compared with itself, three times over: every ratio is 1.
    auto cmp = test::run({swarm_bin(), "compare", (dir / "a").string(), (dir / "second-run").string(), (dir / "a").string(),
                          "--json", "--out", (dir / "cmp").string()},
                         dir.path());
    REQUIRE_MESSAGE(cmp.status == 0, cmp.err);
    const Json::Value table = parse_json(cmp.out);
    CHECK(table["resolve.latency_p50_ms"]["ratio"].asDouble() == 1.0);
    CHECK(table["resolve.latency_p50_ms"]["ratio_c"].asDouble() == 1.0);
    CHECK(table["resolve.latency_p50_ms"]["c"] == table["resolve.latency_p50_ms"]["a"]);
    CHECK(std::filesystem::exists(dir / "cmp" / "compare_cdf.png"));
    CHECK(std::filesystem::exists(dir / "cmp" / "compare_timeline.png"));
    // The timeline's rows: the share answered per bin (all, with no churn;
    // NaN in a bin without a resolve).
    std::istringstream rows(test::read_text(dir / "cmp" / "2-timeline.dat"));
    size_t bins = 0, answered = 0;
    for (std::string row; std::getline(rows, row); ++bins) {
        const std::string share = row.substr(row.find(' ') + 1);
        CHECK((share == "1.000000" || share == "NaN"));
        answered += share == "1.000000";
    }
    CHECK(bins == 60);
    CHECK(answered > 30);

    // A damaged summary is an error, not a crash.
    std::filesystem::create_directories(dir / "damaged");
    test::write_text(dir / "damaged" / "summary.json", "{\"figures\": {\"resolve.count\": {\"mean\": \"many\"}}}");
    auto damaged = test::run({swarm_bin(), "compare", (dir / "a").string(), (dir / "damaged").string()}, dir.path());
    CHECK(damaged.status == 1);
    CHECK(test::contains(damaged.err, "expected form"));

    // So is a damaged events.jsonl when the CDFs are drawn.
    std::filesystem::create_directories(dir / "bad-events");
    std::filesystem::copy_file(dir / "a" / "summary.json", dir / "bad-events" / "summary.json");
    test::write_text(dir / "bad-events" / "events.jsonl", "{\"kind\":\"resolve\"}\n[1, 2\n");
    auto bad_events = test::run({swarm_bin(), "compare", (dir / "a").string(), (dir / "bad-events").string(), "--out",
                                 (dir / "cmp2").string()},
                                dir.path());
    CHECK(bad_events.status == 1);
    CHECK(test::contains(bad_events.err, "events.jsonl:2: not an event"));

    // A finished run is not overwritten.
    auto again = test::run({swarm_bin(), "run", quick_ini(), "--out", (dir / "a").string()}, dir.path());
    CHECK(again.status == 2);
    CHECK(test::contains(again.err, "holds a run already"));
}

TEST_CASE("dhtalk-swarm from a prepared roster: the same invariants, and the same summary again") {
    test::TempDir dir;
    std::string summary[2];
    for (int i = 0; i < 2; ++i) {
        const auto out = dir / ("prepared-" + std::to_string(i));
        auto r = test::run({swarm_bin(), "run", quick_ini(), "--network.founding", "prepared", "--out", out.string()},
                           dir.path(), 120s);
        REQUIRE_MESSAGE(r.status == 0, r.err);
        summary[i] = test::read_text(out / "summary.json");
    }
    CHECK(summary[0] == summary[1]);
    const Json::Value f = parse_json(summary[0])["figures"];
    CHECK(f["message.sent"]["mean"].asDouble() > 20);
    CHECK(f["message.lost"]["mean"].asDouble() == 0);
    CHECK(f["resolve.success_ratio"]["mean"].asDouble() == 1.0);
    CHECK(f["presence.delivery_ratio"]["mean"].asDouble() == 1.0);
    CHECK(f["failure.false_alarm_ratio"]["mean"].asDouble() == 0);
}

TEST_CASE("dhtalk-swarm under churn: nodes crash and restart, the membership protocol sees the crashes, clients fail over") {
    test::TempDir dir;
    auto r = test::run({swarm_bin(), "run", quick_ini(), "--out", (dir / "churn").string(), "--seed", "2", "--churn.model",
                        "weibull", "--churn.median-session-s", "60", "--churn.median-downtime-s", "20", "--churn.leave-share", "0"},
                       dir.path(), 120s);
    REQUIRE_MESSAGE(r.status == 0, r.err);
    const Json::Value f = parse_json(test::read_text(dir / "churn" / "summary.json"))["figures"];
    CHECK(f["churn.crashes"]["mean"].asDouble() >= 3);
    CHECK(f["churn.restarts"]["mean"].asDouble() >= 3);
    CHECK(f["failure.detected"]["mean"].asDouble() >= 1);
    CHECK(f["failure.detection_p50_ms"]["mean"].asDouble() > 1000);  // SWIM takes seconds, not one look
    CHECK(f["nodes.mean_up"]["mean"].asDouble() < 8);
    CHECK(f["resolve.success_ratio"]["mean"].asDouble() > 0.8);
    CHECK(f["message.sent"]["mean"].asDouble() > 20);
}

TEST_CASE("dhtalk-swarm with a partition: each side holds the other dead until it heals; records stay resolvable") {
    test::TempDir dir;
    auto r = test::run({swarm_bin(), "run", quick_ini(), "--out", (dir / "split").string(), "--partition.at-s", "10",
                        "--partition.heal-s", "30", "--link.regions", "2", "--link.region-latency-ms", "0,40;40,0"},
                       dir.path(), 120s);
    REQUIRE_MESSAGE(r.status == 0, r.err);
    const Json::Value f = parse_json(test::read_text(dir / "split" / "summary.json"))["figures"];
    CHECK(f["failure.false_alarm_ratio"]["mean"].asDouble() > 0.05);
    CHECK(f["resolve.success_ratio"]["mean"].asDouble() > 0.9);
    const std::string events = test::read_text(dir / "split" / "events.jsonl");
    CHECK(test::contains(events, "\"kind\":\"partition\""));
    CHECK(test::contains(events, "\"kind\":\"heal\""));
}

TEST_CASE("dhtalk-swarm with a flash crowd: half the nodes are away until 20 s in and join at once; their users' records and messages stay reachable") {
    test::TempDir dir;
    auto r = test::run({swarm_bin(), "run", quick_ini(), "--out", (dir / "crowd").string(), "--churn.flash-crowd-at-s",
                        "20", "--churn.flash-crowd-share", "0.5"},
                       dir.path(), 120s);
    REQUIRE_MESSAGE(r.status == 0, r.err);
    const Json::Value f = parse_json(test::read_text(dir / "crowd" / "summary.json"))["figures"];
    CHECK(f["churn.restarts"]["mean"].asDouble() == 4);  // all four at the crowd
    CHECK(f["nodes.mean_up"]["mean"].asDouble() < 8);
    CHECK(f["resolve.home_down.count"]["mean"].asDouble() > 0);
    CHECK(f["resolve.success_ratio"]["mean"].asDouble() == 1.0);
    CHECK(f["message.lost"]["mean"].asDouble() == 0);
    const std::string events = test::read_text(dir / "crowd" / "events.jsonl");
    CHECK(test::contains(events, "\"kind\":\"flash-away\",\"outcome\":\"4 nodes\""));
    CHECK(test::contains(events, "\"kind\":\"flash-crowd\",\"outcome\":\"4 nodes\",\"t_s\":20.0"));
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
    CHECK(test::run({swarm_bin(), "compare", (dir / "alone").string()}, dir.path()).status == 2);
    CHECK(test::run({swarm_bin(), "compare", "a", "b", "c", "d", "e", "f"}, dir.path()).status == 2);
    auto help = test::run({swarm_bin(), "--help"}, dir.path());
    CHECK(help.status == 0);
    CHECK(test::contains(help.out, "churn.median-session-s"));
}
