#include "node/config.h"

#include <cstring>
#include <sstream>

#include <boost/program_options.hpp>

#include "common/files.h"
#include "common/host_port.h"
#include "common/option_error.h"
#include "dhtalk_version.h"

namespace po = boost::program_options;

namespace dhtalk {
namespace {

constexpr size_t kMaxConfigFileBytes = 1 << 20;

po::options_description node_options(NodeConfig& d) {
    po::options_description o("Options (also valid as 'name = value' lines in the --config file)");
    o.add_options()
        ("data-dir", po::value<std::string>()->default_value(d.data_dir.string()),
         "directory for the node's identity, database and runtime.json")
        ("network", po::value<std::string>()->default_value(d.network),
         "name of the network to join; nodes of different networks never talk")
        ("bind", po::value<std::string>()->default_value(d.bind),
         "address for the DHT socket; empty binds every interface, IPv4 and IPv6")
        ("dht-port", po::value<unsigned>()->default_value(d.dht_port), "UDP port of the DHT (0: any free port)")
        ("http-bind", po::value<std::string>()->default_value(d.http_bind),
         "address for the status and metrics HTTP server (keep it on loopback)")
        ("http-port", po::value<unsigned>()->default_value(d.http_port),
         "TCP port for /status and /metrics (0: any free port)")
        ("bootstrap", po::value<std::vector<std::string>>()->composing(),
         "HOST:PORT of a node of the network to join through (repeatable)")
        ("log-level", po::value<std::string>()->default_value(log::level_name(d.log_level)),
         "debug, info, warning, error or off")
        ("persist-interval", po::value<unsigned>()->default_value(static_cast<unsigned>(d.persist_interval.count())),
         "seconds between snapshots of stored DHT values (1..3600): the most a crash can lose")
        ("max-store-mb", po::value<uint64_t>()->default_value(d.max_store_mb),
         "MiB of DHT values this node stores for the network (16..65536)")
        ("message-ttl-days", po::value<unsigned>()->default_value(d.message_ttl_days),
         "days a message waits in its recipient's inbox before it is dropped (1..30)")
        ("message-ttl-seconds", po::value<unsigned>()->default_value(d.message_ttl_seconds),
         "seconds a message waits, instead of --message-ttl-days when not 0 (1..2592000; for short-lived "
         "networks and tests)")
        ("inbox-messages", po::value<size_t>()->default_value(d.inbox_messages),
         "messages this node holds for one recipient (1..1000000)")
        ("inbox-mib", po::value<size_t>()->default_value(d.inbox_mib),
         "MiB this node holds for one recipient (1..4096)")
        ("inbox-pair-messages", po::value<size_t>()->default_value(d.inbox_pair_messages),
         "messages this node holds from one sender to one recipient (1..1000000), so that no sender fills "
         "another's inbox")
        ("inbox-pair-mib", po::value<size_t>()->default_value(d.inbox_pair_mib),
         "MiB this node holds from one sender to one recipient (1..4096)")
        ("max-message-kib", po::value<size_t>()->default_value(d.max_message_kib),
         "KiB of a message's body, end-to-end ciphertext (1..64); larger content is media")
        ("messages-per-second", po::value<unsigned>()->default_value(d.messages_per_second),
         "messages one user may send per second through this node, with bursts of twice that (1..10000)")
        ("dht-requests-per-address", po::value<unsigned>()->default_value(d.dht_requests_per_address),
         "DHT requests per second answered from one IP address (0: no limit, for nodes that share an address, "
         "as on a local test network; at most 1000000)")
        ("genesis", po::bool_switch(), "found a new network named by --network, with this node its first member")
        ("quorum", po::value<std::string>()->default_value(d.quorum),
         "with --genesis: share of members that must approve a change (majority or two-thirds)")
        ("apply", po::value<std::string>(),
         "apply to join the network of the --bootstrap node; the text is the operator's contact")
        ("contact", po::value<std::string>()->default_value(d.contact), "the operator's contact, shown to voters")
        ("open", po::bool_switch(), "plain OpenDHT datagrams (stock peers can join) instead of the sealed overlay")
        ("advertise", po::value<std::string>()->default_value(d.advertise),
         "host or address other nodes reach this one at (default: --bind, else 127.0.0.1)")
        ("roster-interval-ms", po::value<unsigned>()->default_value(static_cast<unsigned>(d.roster_interval.count())),
         "milliseconds between roster catch-ups and re-applications (100..600000)")
        ("client-bind", po::value<std::string>()->default_value(d.client_bind),
         "address the client front end (TLS) listens on (default: every interface)")
        ("client-port", po::value<unsigned>()->default_value(d.client_port), "TCP port of the client front end (0: any free port)")
        ("max-client-sessions", po::value<unsigned>()->default_value(static_cast<unsigned>(d.max_client_sessions)),
         "client sessions held at once")
        ("client-advertise", po::value<std::string>()->default_value(d.client_advertise),
         "HOST:PORT clients reach the front end at, as the roster lists it (default: the client port at "
         "--advertise, else at --client-bind when it names one address, else at --bind or 127.0.0.1)")
        ("media-offer-mib", po::value<unsigned>()->default_value(d.media_offer_mib),
         "MiB of disk this node offers the network for media chunks (0: it holds none); the roster lists it, "
         "and chunks are placed by it")
        ("media-quota-mib", po::value<unsigned>()->default_value(d.media_quota_mib),
         "MiB of media chunks this node holds for one user (1..1048576)")
        ("max-file-mib", po::value<unsigned>()->default_value(d.max_file_mib),
         "largest attachment a user may upload through this node, in MiB (1..4096)")
        ("media-ttl-days", po::value<unsigned>()->default_value(d.media_ttl_days),
         "days a file's chunks are kept after their upload (1..365)")
        ("media-chunks-per-second", po::value<unsigned>()->default_value(d.media_chunks_per_second),
         "file chunks (64 KiB) one client session moves per second, with bursts of twice that (1..100000)")
        ("redirect-above", po::value<unsigned>()->default_value(static_cast<unsigned>(d.redirect_above)),
         "above this many client sessions, a login is sent on to a less loaded member (0: 80% of "
         "--max-client-sessions)")
        ("max-sessions-per-address", po::value<unsigned>()->default_value(static_cast<unsigned>(d.max_sessions_per_address)),
         "client sessions from one IP address")
        ("registrations-per-address", po::value<unsigned>()->default_value(d.registrations_per_address),
         "registration attempts (codes asked, wrong codes) one client address may make in 30 minutes, over all "
         "numbers; raise it for clients behind a shared address such as a carrier's NAT (1..1000000)")
        ("max-records-per-user", po::value<unsigned>()->default_value(static_cast<unsigned>(d.max_records_per_user)),
         "records (vCard, privacy list, media) one user keeps through this node (1..100000)")
        ("max-record-kib-per-user",
         po::value<unsigned>()->default_value(static_cast<unsigned>(d.max_record_kib_per_user)),
         "KiB those records take in all (64..1048576)")
        ("swim-period-ms", po::value<unsigned>()->default_value(static_cast<unsigned>(d.swim_period.count())),
         "membership protocol period: one probe per period (100..60000; failure detection scales with it)")
        ("swim-indirect-probes", po::value<unsigned>()->default_value(d.swim_indirect_probes),
         "members asked to probe a member that missed its ack (1..16)")
        ("swim-suspicion-mult", po::value<double>()->default_value(d.swim_suspicion_mult),
         "the shortest suspicion lasts this many periods times log10(members); the longest six times that (1..60)")
        ("presence-sync-ms", po::value<unsigned>()->default_value(static_cast<unsigned>(d.presence_sync.count())),
         "presence anti-entropy and renewal period (500..600000)")
        ("presence-directory-replicas", po::value<unsigned>()->default_value(d.presence_directory_replicas),
         "members that keep where each user is hosted (1..8): more ride out more members failing at once, "
         "for more presence traffic; every member should use the same")
        ("client-rate", po::value<unsigned>()->default_value(d.client_rate),
         "client requests per second allowed from one IP address, over all its sessions")
        ("sms-provider", po::value<std::string>()->default_value(d.sms_provider),
         "how verification codes reach phones: file (development: --sms-file) or vonage (Vonage SMS API)")
        ("sms-file", po::value<std::string>()->default_value(""),
         "file provider: append codes here as JSON lines (default: DATA_DIR/verification-codes.jsonl)")
        ("sms-url", po::value<std::string>()->default_value(d.vonage.url), "vonage provider: the SMS API endpoint")
        ("sms-api-key", po::value<std::string>()->default_value(""), "vonage provider: the account's API key")
        ("sms-api-secret", po::value<std::string>()->default_value(""),
         "vonage provider: the account's API secret (prefer the --config file: the command line is visible to others)")
        ("sms-from", po::value<std::string>()->default_value(d.vonage.from), "vonage provider: the sender shown on phones");
    return o;
}

Result<uint16_t> port_value(const po::variables_map& vm, const char* name) {
    const unsigned v = vm[name].as<unsigned>();
    if (v > 65535) return Status::invalid("--" + std::string(name) + " " + std::to_string(v) + " is not a port (0..65535)");
    return static_cast<uint16_t>(v);
}

Result<NodeConfig> to_config(const po::variables_map& vm) {
    NodeConfig c;
    c.data_dir = vm["data-dir"].as<std::string>();
    if (c.data_dir.empty()) return Status::invalid("--data-dir must not be empty");
    c.network = vm["network"].as<std::string>();
    if (c.network.empty() || c.network.size() > 64)
        return Status::invalid("--network must be 1 to 64 characters");
    c.bind = vm["bind"].as<std::string>();
    c.http_bind = vm["http-bind"].as<std::string>();
    if (c.http_bind.empty()) return Status::invalid("--http-bind must not be empty");
    auto dht_port = port_value(vm, "dht-port");
    if (!dht_port) return dht_port.status();
    c.dht_port = *dht_port;
    auto http_port = port_value(vm, "http-port");
    if (!http_port) return http_port.status();
    c.http_port = *http_port;
    if (vm.count("bootstrap")) {
        for (const auto& b : vm["bootstrap"].as<std::vector<std::string>>()) {
            auto hp = parse_host_port(b);
            if (!hp) return Status::invalid("--bootstrap: " + hp.status().message());
            c.bootstrap.push_back(b);
        }
    }
    auto level = log::parse_level(vm["log-level"].as<std::string>());
    if (!level) return Status::invalid("--log-level: " + level.status().message());
    c.log_level = *level;
    const unsigned interval = vm["persist-interval"].as<unsigned>();
    if (interval < 1 || interval > 3600) return Status::invalid("--persist-interval must be 1..3600 seconds");
    c.persist_interval = std::chrono::seconds(interval);
    c.max_store_mb = vm["max-store-mb"].as<uint64_t>();
    if (c.max_store_mb < 16 || c.max_store_mb > 65536) return Status::invalid("--max-store-mb must be 16..65536");
    c.message_ttl_days = vm["message-ttl-days"].as<unsigned>();
    if (c.message_ttl_days < 1 || c.message_ttl_days > 30) return Status::invalid("--message-ttl-days must be 1..30");
    c.message_ttl_seconds = vm["message-ttl-seconds"].as<unsigned>();
    if (c.message_ttl_seconds > 30u * 86400) return Status::invalid("--message-ttl-seconds must be 0..2592000");
    for (auto [name, field, max] : {std::tuple{"inbox-messages", &c.inbox_messages, size_t{1000000}},
                                    std::tuple{"inbox-mib", &c.inbox_mib, size_t{4096}},
                                    std::tuple{"inbox-pair-messages", &c.inbox_pair_messages, size_t{1000000}},
                                    std::tuple{"inbox-pair-mib", &c.inbox_pair_mib, size_t{4096}},
                                    std::tuple{"max-message-kib", &c.max_message_kib, size_t{64}}}) {
        *field = vm[name].as<size_t>();
        if (*field < 1 || *field > max)
            return Status::invalid(std::string("--") + name + " must be 1.." + std::to_string(max));
    }
    c.messages_per_second = vm["messages-per-second"].as<unsigned>();
    if (c.messages_per_second < 1 || c.messages_per_second > 10000)
        return Status::invalid("--messages-per-second must be 1..10000");
    c.dht_requests_per_address = vm["dht-requests-per-address"].as<unsigned>();
    if (c.dht_requests_per_address > 1000000) return Status::invalid("--dht-requests-per-address must be 0..1000000");
    c.genesis = vm["genesis"].as<bool>();
    c.quorum = vm["quorum"].as<std::string>();
    if (c.quorum != "majority" && c.quorum != "two-thirds")
        return Status::invalid("--quorum must be majority or two-thirds");
    c.contact = vm["contact"].as<std::string>();
    if (vm.count("apply")) {
        c.apply = true;
        c.contact = vm["apply"].as<std::string>();
        if (c.bootstrap.empty()) return Status::invalid("--apply needs --bootstrap HOST:PORT of a member");
    }
    if (c.contact.size() > 256) return Status::invalid("the contact must be at most 256 characters");
    if (c.genesis && c.apply) return Status::invalid("--genesis and --apply exclude each other");
    c.open = vm["open"].as<bool>();
    c.advertise = vm["advertise"].as<std::string>();
    const unsigned interval_ms = vm["roster-interval-ms"].as<unsigned>();
    if (interval_ms < 100 || interval_ms > 600000) return Status::invalid("--roster-interval-ms must be 100..600000");
    c.roster_interval = std::chrono::milliseconds(interval_ms);
    c.client_bind = vm["client-bind"].as<std::string>();
    auto client_port = port_value(vm, "client-port");
    if (!client_port) return client_port.status();
    c.client_port = *client_port;
    c.max_client_sessions = vm["max-client-sessions"].as<unsigned>();
    if (c.max_client_sessions < 1 || c.max_client_sessions > 100000)
        return Status::invalid("--max-client-sessions must be 1..100000");
    c.client_advertise = vm["client-advertise"].as<std::string>();
    if (!c.client_advertise.empty())
        if (auto hp = parse_host_port(c.client_advertise); !hp)
            return Status::invalid("--client-advertise: " + hp.status().message());
    c.media_offer_mib = vm["media-offer-mib"].as<unsigned>();
    if (c.media_offer_mib > (1u << 30)) return Status::invalid("--media-offer-mib must be at most 1073741824 (1 PiB)");
    c.media_quota_mib = vm["media-quota-mib"].as<unsigned>();
    if (c.media_quota_mib < 1 || c.media_quota_mib > (1u << 20))
        return Status::invalid("--media-quota-mib must be 1..1048576");
    c.max_file_mib = vm["max-file-mib"].as<unsigned>();
    if (c.max_file_mib < 1 || c.max_file_mib > 4096) return Status::invalid("--max-file-mib must be 1..4096");
    c.media_ttl_days = vm["media-ttl-days"].as<unsigned>();
    if (c.media_ttl_days < 1 || c.media_ttl_days > 365) return Status::invalid("--media-ttl-days must be 1..365");
    c.media_chunks_per_second = vm["media-chunks-per-second"].as<unsigned>();
    if (c.media_chunks_per_second < 1 || c.media_chunks_per_second > 100000)
        return Status::invalid("--media-chunks-per-second must be 1..100000");
    c.redirect_above = vm["redirect-above"].as<unsigned>();
    if (c.redirect_above > c.max_client_sessions)
        return Status::invalid("--redirect-above must be at most --max-client-sessions");
    c.max_sessions_per_address = vm["max-sessions-per-address"].as<unsigned>();
    if (c.max_sessions_per_address < 1) return Status::invalid("--max-sessions-per-address must be at least 1");
    c.registrations_per_address = vm["registrations-per-address"].as<unsigned>();
    if (c.registrations_per_address < 1 || c.registrations_per_address > 1000000)
        return Status::invalid("--registrations-per-address must be 1..1000000");
    c.max_records_per_user = vm["max-records-per-user"].as<unsigned>();
    if (c.max_records_per_user < 1 || c.max_records_per_user > 100000)
        return Status::invalid("--max-records-per-user must be 1..100000");
    c.max_record_kib_per_user = vm["max-record-kib-per-user"].as<unsigned>();
    if (c.max_record_kib_per_user < 64 || c.max_record_kib_per_user > (1u << 20))
        return Status::invalid("--max-record-kib-per-user must be 64..1048576");
    const unsigned swim_ms = vm["swim-period-ms"].as<unsigned>();
    if (swim_ms < 100 || swim_ms > 60000) return Status::invalid("--swim-period-ms must be 100..60000");
    c.swim_period = std::chrono::milliseconds(swim_ms);
    c.swim_indirect_probes = vm["swim-indirect-probes"].as<unsigned>();
    if (c.swim_indirect_probes < 1 || c.swim_indirect_probes > 16) return Status::invalid("--swim-indirect-probes must be 1..16");
    c.swim_suspicion_mult = vm["swim-suspicion-mult"].as<double>();
    if (!(c.swim_suspicion_mult >= 1 && c.swim_suspicion_mult <= 60))
        return Status::invalid("--swim-suspicion-mult must be 1..60");
    const unsigned sync_ms = vm["presence-sync-ms"].as<unsigned>();
    if (sync_ms < 500 || sync_ms > 600000) return Status::invalid("--presence-sync-ms must be 500..600000");
    c.presence_sync = std::chrono::milliseconds(sync_ms);
    c.presence_directory_replicas = vm["presence-directory-replicas"].as<unsigned>();
    if (c.presence_directory_replicas < 1 || c.presence_directory_replicas > 8)
        return Status::invalid("--presence-directory-replicas must be 1..8");
    c.client_rate = vm["client-rate"].as<unsigned>();
    if (c.client_rate < 1) return Status::invalid("--client-rate must be at least 1");
    c.sms_provider = vm["sms-provider"].as<std::string>();
    if (c.sms_provider != "file" && c.sms_provider != "vonage")
        return Status::invalid("--sms-provider must be file or vonage");
    c.sms_file = vm["sms-file"].as<std::string>();
    if (c.sms_file.empty()) c.sms_file = c.data_dir / "verification-codes.jsonl";
    c.vonage.url = vm["sms-url"].as<std::string>();
    c.vonage.api_key = vm["sms-api-key"].as<std::string>();
    c.vonage.api_secret = vm["sms-api-secret"].as<std::string>();
    c.vonage.from = vm["sms-from"].as<std::string>();
    if (c.sms_provider == "vonage" && (c.vonage.api_key.empty() || c.vonage.api_secret.empty()))
        return Status::invalid("--sms-provider vonage needs --sms-api-key and --sms-api-secret");
    if (c.vonage.url.rfind("https://", 0) != 0 && c.vonage.url.rfind("http://", 0) != 0)
        return Status::invalid("--sms-url must be an http:// or https:// URL");
    return c;
}

std::string help_text(const po::options_description& general, const po::options_description& node) {
    std::ostringstream os;
    os << "Usage: dhtalk-node [OPTIONS]\n\n"
          "Runs a dhtalk storage node: joins the network's DHT, stores and persists\n"
          "values for it, and serves status and metrics over HTTP on loopback.\n"
          "On start it writes runtime.json (node id, network id, pid, bound ports)\n"
          "into the data directory. SIGINT or SIGTERM stops it cleanly.\n\n"
       << general << "\n" << node
       << "\nExit status: 0 after a clean stop, 1 on a runtime failure, 2 on a usage or\n"
          "configuration error.\n";
    return os.str();
}

}  // namespace

Result<ParsedArgs> parse_node_args(int argc, const char* const argv[]) {
    bool percent = false;
    for (int i = 0; i < argc; ++i) percent = percent || std::strchr(argv[i], '%') != nullptr;
    NodeConfig defaults;
    po::options_description general("General");
    general.add_options()
        ("help,h", "print this help and exit")
        ("version", "print the version and exit")
        ("config", po::value<std::string>(), "read options from this INI file");
    auto node = node_options(defaults);
    po::options_description all;
    all.add(general).add(node);

    ParsedArgs out;
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(argc, argv).options(all).run(), vm);
        if (vm.count("help")) {
            out.action = ParsedArgs::Action::kHelp;
            out.text = help_text(general, node);
            return out;
        }
        if (vm.count("version")) {
            out.action = ParsedArgs::Action::kVersion;
            out.text = std::string("dhtalk-node ") + DHTALK_VERSION + "\n";
            return out;
        }
        if (vm.count("config")) {
            const std::string path = vm["config"].as<std::string>();
            auto text = read_file(path, kMaxConfigFileBytes);
            if (!text) return Status::invalid("cannot read config file: " + text.status().message());
            percent = percent || text->find('%') != std::string::npos;
            std::istringstream in(*text);
            try {
                po::store(po::parse_config_file(in, node, /*allow_unregistered=*/false), vm);
            } catch (const po::error& e) {
                return Status::invalid("config file " + path + ": " + describe_option_error(e, percent));
            }
        }
        po::notify(vm);
    } catch (const po::error& e) {
        return Status::invalid(describe_option_error(e, percent));
    }
    auto config = to_config(vm);
    if (!config) return config.status();
    out.config = std::move(config).value();
    return out;
}

namespace {
bool names_one_address(const std::string& host) { return !host.empty() && host != "0.0.0.0" && host != "::"; }
}  // namespace

std::string advertised_host(const NodeConfig& c) {
    if (!c.advertise.empty()) return c.advertise;
    return names_one_address(c.bind) ? c.bind : "127.0.0.1";
}

std::string client_endpoint(const NodeConfig& c, uint16_t port) {
    if (!c.client_advertise.empty()) return c.client_advertise;
    const std::string host = c.advertise.empty() && names_one_address(c.client_bind) ? c.client_bind : advertised_host(c);
    return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

}  // namespace dhtalk
