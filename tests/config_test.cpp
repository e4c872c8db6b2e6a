// dhtalk-node's options: defaults, command line, config file, and every kind
// of bad input answered with an error that names the problem.
#include <fstream>

#include "node/config.h"
#include "testing/test_util.h"

#include "tests/doctest.h"

using namespace dhtalk;

namespace {

Result<ParsedArgs> parse(std::vector<std::string> args) {
    args.insert(args.begin(), "dhtalk-node");
    std::vector<const char*> argv;
    for (auto& a : args) argv.push_back(a.c_str());
    return parse_node_args(static_cast<int>(argv.size()), argv.data());
}

std::string error_of(std::vector<std::string> args) {
    auto r = parse(std::move(args));
    REQUIRE_FALSE(r.is_ok());
    CHECK(r.status().code() == Code::kInvalidArgument);
    return r.status().message();
}

using test::contains;

}  // namespace

TEST_CASE("defaults need no config file") {
    auto r = parse({});
    REQUIRE(r.is_ok());
    const auto& c = r->config;
    CHECK(c.data_dir == "./dhtalk-data");
    CHECK(c.dht_port == 4222);
    CHECK(c.http_bind == "127.0.0.1");
    CHECK(c.bootstrap.empty());
    CHECK(c.persist_interval == std::chrono::seconds(5));
    CHECK(c.dht_requests_per_address == 1024);
    CHECK(c.message_ttl_days == 7);
}

TEST_CASE("command-line options") {
    auto r = parse({"--data-dir", "/tmp/x", "--network", "net1", "--dht-port", "0", "--http-port", "9000",
                    "--bootstrap", "10.0.0.1:4222", "--bootstrap", "[::1]:5000", "--log-level", "debug",
                    "--persist-interval", "2", "--bind", "127.0.0.1", "--dht-requests-per-address", "0",
                    "--registrations-per-address", "500"});
    REQUIRE(r.is_ok());
    const auto& c = r->config;
    CHECK(c.data_dir == "/tmp/x");
    CHECK(c.network == "net1");
    CHECK(c.dht_port == 0);
    CHECK(c.http_port == 9000);
    CHECK(c.bootstrap == std::vector<std::string>{"10.0.0.1:4222", "[::1]:5000"});
    CHECK(c.log_level == log::Level::kDebug);
    CHECK(c.persist_interval == std::chrono::seconds(2));
    CHECK(c.bind == "127.0.0.1");
    CHECK(c.dht_requests_per_address == 0);
    CHECK(c.registrations_per_address == 500);
}

TEST_CASE("the endpoints the roster lists: clients are sent where the front end listens") {
    auto endpoint = [](std::vector<std::string> args) { return client_endpoint(parse(std::move(args))->config, 4223); };
    CHECK(endpoint({}) == "127.0.0.1:4223");
    CHECK(endpoint({"--bind", "192.0.2.1"}) == "192.0.2.1:4223");
    // A front end on one address answers only there, whatever the DHT binds.
    CHECK(endpoint({"--bind", "127.0.0.2", "--client-bind", "127.0.0.1"}) == "127.0.0.1:4223");
    CHECK(endpoint({"--client-bind", "::1"}) == "[::1]:4223");
    CHECK(endpoint({"--client-bind", "0.0.0.0", "--bind", "192.0.2.1"}) == "192.0.2.1:4223");
    // What the operator says wins: a public name before a private address.
    CHECK(endpoint({"--client-bind", "10.0.0.5", "--advertise", "node.example.org"}) == "node.example.org:4223");
    CHECK(endpoint({"--client-bind", "10.0.0.5", "--client-advertise", "chat.example.org:443"}) == "chat.example.org:443");
    CHECK(advertised_host(parse({"--bind", "192.0.2.1", "--client-bind", "127.0.0.1"})->config) == "192.0.2.1");
}

TEST_CASE("help and version") {
    auto h = parse({"--help"});
    REQUIRE(h.is_ok());
    CHECK(h->action == ParsedArgs::Action::kHelp);
    CHECK(contains(h->text, "--bootstrap"));
    CHECK(contains(h->text, "--persist-interval"));
    auto v = parse({"--version"});
    REQUIRE(v.is_ok());
    CHECK(v->action == ParsedArgs::Action::kVersion);
    CHECK(contains(v->text, "dhtalk-node "));
}

TEST_CASE("config file: same names, command line wins") {
    test::TempDir dir;
    test::write_text(dir / "node.ini",
                     "# a comment\nnetwork = fromfile\ndht-port = 5000\nbootstrap = 127.0.0.1:1\n");
    auto r = parse({"--config", (dir / "node.ini").string(), "--dht-port", "6000"});
    REQUIRE(r.is_ok());
    CHECK(r->config.network == "fromfile");
    CHECK(r->config.dht_port == 6000);
    CHECK(r->config.bootstrap == std::vector<std::string>{"127.0.0.1:1"});
}

TEST_CASE("a value holding a message placeholder is refused, not looped on") {
    // Boost.Program_options fills %value% into its message until none is
    // left: this value would make it loop forever (found by fuzzing).
    test::TempDir dir;
    const auto path = dir / "placeholder.ini";
    std::ofstream(path) << "network = dhtalk\ndht-port = 422argument ('%value%')\n";
    CHECK(contains(error_of({"--config", path.string()}), "dht-port"));
    CHECK(contains(error_of({"--dht-port", "1%value%"}), "dht-port"));
    CHECK(contains(error_of({"--%canonical_option%"}), "canonical_option"));
}

TEST_CASE("hostile and mistaken input is refused with a clear message") {
    test::TempDir dir;
    CHECK(contains(error_of({"--no-such-option"}), "no-such-option"));
    CHECK(contains(error_of({"--dht-port", "70000"}), "dht-port"));
    CHECK(contains(error_of({"--dht-port", "-1"}), "dht-port"));
    CHECK(contains(error_of({"--http-port", "abc"}), "http-port"));
    CHECK(contains(error_of({"--dht-port", "1", "--dht-port", "2"}), "dht-port"));  // conflicting values
    CHECK(contains(error_of({"--bootstrap", "nohostport"}), "bootstrap"));
    CHECK(contains(error_of({"--bootstrap", "host:0"}), "bootstrap"));
    CHECK(contains(error_of({"--max-records-per-user", "0"}), "max-records-per-user"));
    CHECK(contains(error_of({"--max-record-kib-per-user", "1"}), "max-record-kib-per-user"));
    CHECK(contains(error_of({"--bootstrap", "host:99999"}), "bootstrap"));
    CHECK(contains(error_of({"--log-level", "loud"}), "log-level"));
    CHECK(contains(error_of({"--persist-interval", "0"}), "persist-interval"));
    CHECK(contains(error_of({"--max-store-mb", "1"}), "max-store-mb"));
    CHECK(contains(error_of({"--dht-requests-per-address", "1000001"}), "dht-requests-per-address"));
    CHECK(contains(error_of({"--message-ttl-days", "0"}), "message-ttl-days"));
    CHECK(contains(error_of({"--message-ttl-days", "31"}), "message-ttl-days"));
    CHECK(contains(error_of({"--messages-per-second", "0"}), "messages-per-second"));
    CHECK(contains(error_of({"--client-advertise", "no-port"}), "client-advertise"));
    CHECK(contains(error_of({"--redirect-above", "20000"}), "redirect-above"));
    CHECK(contains(error_of({"--registrations-per-address", "0"}), "registrations-per-address"));
    CHECK(contains(error_of({"--registrations-per-address", "1000001"}), "registrations-per-address"));
    CHECK(contains(error_of({"--media-offer-mib", "2000000000"}), "media-offer-mib"));
    CHECK(contains(error_of({"--media-quota-mib", "0"}), "media-quota-mib"));
    CHECK(contains(error_of({"--max-file-mib", "5000"}), "max-file-mib"));
    CHECK(contains(error_of({"--media-ttl-days", "0"}), "media-ttl-days"));
    CHECK(contains(error_of({"--media-chunks-per-second", "0"}), "media-chunks-per-second"));
    CHECK(contains(error_of({"--dht-requests-per-address", "many"}), "dht-requests-per-address"));
    CHECK(contains(error_of({"--network", ""}), "network"));
    CHECK(contains(error_of({"--data-dir", ""}), "data-dir"));
    CHECK(contains(error_of({"--config", (dir / "missing.ini").string()}), "missing.ini"));
    CHECK(contains(error_of({"--config", dir.path().string()}), "not a regular file"));

    test::write_text(dir / "unknown.ini", "colour = blue\n");
    CHECK(contains(error_of({"--config", (dir / "unknown.ini").string()}), "colour"));
    test::write_text(dir / "twice.ini", "dht-port = 1\ndht-port = 2\n");
    CHECK(contains(error_of({"--config", (dir / "twice.ini").string()}), "dht-port"));
    test::write_text(dir / "badport.ini", "http-port = 123456\n");
    CHECK(contains(error_of({"--config", (dir / "badport.ini").string()}), "http-port"));
    test::write_text(dir / "huge.ini", std::string(2 << 20, '#'));
    CHECK(contains(error_of({"--config", (dir / "huge.ini").string()}), "bytes"));
    test::write_text(dir / "garbage.ini", "[[[\x01\x02\n=\n");
    CHECK_FALSE(parse({"--config", (dir / "garbage.ini").string()}).is_ok());
}

TEST_CASE("message bounds are options with defaults, each checked") {
    const auto d = parse({}).value().config;
    CHECK(d.message_ttl_seconds == 0);
    CHECK(d.inbox_messages == 10000);
    CHECK(d.inbox_mib == 64);
    CHECK(d.inbox_pair_messages == 1000);
    CHECK(d.inbox_pair_mib == 8);
    CHECK(d.max_message_kib == 64);
    for (const char* name : {"inbox-messages", "inbox-mib", "inbox-pair-messages", "inbox-pair-mib", "max-message-kib"}) {
        CAPTURE(name);
        CHECK(contains(error_of({std::string("--") + name, "0"}), name));
    }
    CHECK(contains(error_of({"--max-message-kib", "65"}), "max-message-kib"));
    CHECK(contains(error_of({"--inbox-mib", "5000"}), "inbox-mib"));
    CHECK(contains(error_of({"--message-ttl-seconds", "2592001"}), "message-ttl-seconds"));
    auto c = parse({"--message-ttl-seconds", "3", "--inbox-pair-messages", "2", "--max-message-kib", "1"}).value().config;
    CHECK(c.message_ttl_seconds == 3);
    CHECK(c.inbox_pair_messages == 2);
    CHECK(c.max_message_kib == 1);
}

TEST_CASE("client, SMS and membership options are checked") {
    CHECK(contains(error_of({"--client-port", "70000"}), "client-port"));
    CHECK(contains(error_of({"--max-client-sessions", "0"}), "max-client-sessions"));
    CHECK(contains(error_of({"--client-rate", "0"}), "client-rate"));
    CHECK(contains(error_of({"--sms-provider", "pigeon"}), "sms-provider"));
    CHECK(contains(error_of({"--sms-provider", "vonage"}), "sms-api-key"));
    CHECK(contains(error_of({"--sms-url", "ftp://x"}), "sms-url"));
    CHECK(contains(error_of({"--swim-period-ms", "10"}), "swim-period-ms"));
    CHECK(contains(error_of({"--swim-indirect-probes", "0"}), "swim-indirect-probes"));
    CHECK(contains(error_of({"--swim-suspicion-mult", "nan"}), "swim-suspicion-mult"));
    CHECK(contains(error_of({"--presence-sync-ms", "1"}), "presence-sync-ms"));
    CHECK(contains(error_of({"--presence-directory-replicas", "0"}), "presence-directory-replicas"));
    CHECK(contains(error_of({"--presence-directory-replicas", "9"}), "presence-directory-replicas"));
    auto ok = parse({"--sms-provider", "vonage", "--sms-api-key", "k", "--sms-api-secret", "s",
                                        "--swim-period-ms", "200", "--client-port", "0"});
    REQUIRE(ok.is_ok());
    CHECK(ok->config.vonage.api_key == "k");
    CHECK(ok->config.swim_period == std::chrono::milliseconds(200));
    CHECK(ok->config.client_port == 0);
    CHECK(ok->config.sms_file.filename() == "verification-codes.jsonl");
}
