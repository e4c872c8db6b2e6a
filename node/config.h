#pragma once
// NodeConfig: every setting of dhtalk-node, read from the command line and
// optionally an INI file (--config FILE) with the same option names; the
// command line wins where both give a value. Parsing never exits or throws:
// it returns the config, a request for help/version text, or an error that
// names the problem (the caller prints it and exits with status 2).

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "common/log.h"
#include "common/status.h"
#include "node/front/verification_sender.h"

namespace dhtalk {

struct NodeConfig {
    std::filesystem::path data_dir = "./dhtalk-data";
    std::string network = "dhtalk-local";
    std::string bind;  // empty: every interface, IPv4 and IPv6
    uint16_t dht_port = 4222;
    std::string http_bind = "127.0.0.1";
    uint16_t http_port = 4280;
    std::vector<std::string> bootstrap;  // HOST:PORT, checked at parse time
    log::Level log_level = log::Level::kInfo;
    std::chrono::seconds persist_interval{5};
    uint64_t max_store_mb = 256;
    // Requests per second the DHT answers from one IP address; 0: no limit.
    // 1,024 is OpenDHT 2.4.12's own (an eighth of its 8,192 for all peers).
    unsigned dht_requests_per_address = 1024;
    // Messages: how long one waits for its recipient (docs/messaging.md).
    unsigned message_ttl_days = 7;
    unsigned message_ttl_seconds = 0;  // set: instead of the days (short inboxes, tests)
    unsigned messages_per_second = 20;  // per sender on this node, with a burst of twice that
    // What this node holds as an inbox holder, per recipient and per
    // sender-recipient pair, and a message body's size.
    size_t inbox_messages = 10000;
    size_t inbox_mib = 64;
    size_t inbox_pair_messages = 1000;
    size_t inbox_pair_mib = 8;
    size_t max_message_kib = 64;
    // The trusted network (docs/trust.md).
    bool genesis = false;        // found a network named `network`
    std::string quorum = "majority";  // with --genesis: majority or two-thirds
    bool apply = false;          // apply to join through `bootstrap`
    std::string contact;         // the operator's contact, shown to voters
    bool open = false;           // plain OpenDHT datagrams instead of the sealed overlay
    std::string advertise;       // host others reach this node at; default: --bind, else 127.0.0.1
    std::chrono::milliseconds roster_interval{std::chrono::seconds(3)};
    // The client front end (docs/protocol.md).
    std::string client_bind;  // empty: every interface
    uint16_t client_port = 4223;
    size_t max_client_sessions = 10000;  // about 12.5 KB each (bench/client_bench)
    // HOST:PORT clients reach the front end at, as the roster lists it;
    // empty: client_endpoint() below.
    std::string client_advertise;
    // Above this many sessions a login is sent on to a less loaded member
    // (0: 80% of max_client_sessions).
    size_t redirect_above = 0;
    // Media chunks (docs/media.md): MiB of disk offered to the network, what
    // one user may have held here, and an attachment's largest size.
    uint32_t media_offer_mib = 1024;
    uint32_t media_quota_mib = 1024;
    uint32_t max_file_mib = 100;
    uint32_t media_ttl_days = 30;  // a chunk is dropped this long after its upload
    unsigned media_chunks_per_second = 200;  // per client session, with bursts of twice that
    size_t max_sessions_per_address = 64;
    // Registration attempts (codes asked, wrong codes) from one client
    // address over all numbers, per 30 minutes (front/registration.h).
    unsigned registrations_per_address = 10;
    unsigned client_rate = 200;  // requests per second per client address
    // Records one user keeps through this node, and their bytes in all.
    size_t max_records_per_user = 256;
    size_t max_record_kib_per_user = 4096;
    // Membership and presence (docs/presence.md).
    std::chrono::milliseconds swim_period{std::chrono::seconds(1)};
    unsigned swim_indirect_probes = 3;  // k members asked to probe for us
    double swim_suspicion_mult = 4;     // the shortest suspicion is this * log10(n) periods
    std::chrono::milliseconds presence_sync{std::chrono::seconds(5)};
    unsigned presence_directory_replicas = 2;  // members that keep where a user is
    std::string sms_provider = "file";  // file or vonage
    std::filesystem::path sms_file;      // file provider; default DATA_DIR/verification-codes.jsonl
    VonageConfig vonage;
};

struct ParsedArgs {
    enum class Action { kRun, kHelp, kVersion };
    Action action = Action::kRun;
    NodeConfig config;
    std::string text;  // the help or version text to print
};

Result<ParsedArgs> parse_node_args(int argc, const char* const argv[]);

// The host other nodes reach this one at: --advertise, else --bind when it
// names one address, else 127.0.0.1.
std::string advertised_host(const NodeConfig& c);
// Where clients reach the front end listening on `port`, as the roster
// lists it: --client-advertise; else --advertise; else --client-bind when
// it names one address (the front end answers nowhere else); else the
// advertised host.
std::string client_endpoint(const NodeConfig& c, uint16_t port);

}  // namespace dhtalk
