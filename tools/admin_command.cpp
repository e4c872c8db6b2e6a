#include "tools/admin_command.h"

#include <cstdio>
#include <iostream>

#include <boost/program_options.hpp>
#include <httplib.h>

#include "common/json.h"
#include "tools/cli_error.h"
#include "common/option_error.h"
#include "node/admin_secret.h"
#include "node/runtime_info.h"

namespace po = boost::program_options;

namespace dhtalk::cli {
namespace {

// The local node's admin interface: where it listens and its secret.
struct AdminTarget {
    std::string host;
    uint16_t port = 0;
    std::string secret;
};

Result<AdminTarget> find_node(const std::string& data_dir) {
    auto rt = read_runtime_info(data_dir);
    if (!rt) return rt.status();
    auto secret = read_admin_secret(data_dir);
    if (!secret) return Status::invalid("cannot read the admin secret: " + secret.status().message());
    return AdminTarget{rt->http_address, rt->http_port, *secret};
}

// Sends one admin request; returns the parsed JSON answer or why not.
Result<Json::Value> call(const AdminTarget& t, const std::string& method, const std::string& path,
                         const std::string& body = {}, int read_timeout_s = 10) {
    httplib::Client client(t.host, t.port);
    client.set_connection_timeout(3, 0);
    client.set_read_timeout(read_timeout_s, 0);
    httplib::Headers headers{{kAdminSecretHeader, t.secret}};
    auto res = method == "GET" ? client.Get(path.c_str(), headers)
                               : client.Post(path.c_str(), headers, body, "application/json");
    if (!res)
        return Status::unavailable("cannot reach the node at " + t.host + ":" + std::to_string(t.port) + ": " +
                                   httplib::to_string(res.error()));
    auto j = json::parse_object(res->body, 1 << 20);
    if (!j) return Status::invalid("the node's answer is not valid: " + j.status().message());
    if (res->status != 200) return Status::invalid((*j)["error"].asString());
    return j;
}

void print_pending(const Json::Value& v) {
    std::cout << "network " << v["network"].asString() << " (id " << v["network_id"].asUInt() << "), roster epoch "
              << v["epoch"].asUInt64() << ", quorum " << v["quorum"].asString() << ", this node: "
              << v["standing"].asString() << "\n\nmembers:\n";
    for (const auto& m : v["members"]) {
        std::cout << "  " << m["node_id"].asString() << "  " << m["contact"].asString();
        if (m["node_id"] == v["self"]) std::cout << "  (this node)";
        else if (m["liveness"].isString())
            std::cout << "  " << m["liveness"].asString() << ", " << m["sessions"].asUInt() << "/"
                      << m["capacity"].asUInt() << " sessions";
        std::cout << "\n";
    }
    std::cout << "\npending:\n";
    if (v["pending"].empty()) std::cout << "  nothing to vote on\n";
    for (const auto& p : v["pending"])
        std::cout << "  " << p["change"].asString() << " " << p["node_id"].asString() << "  "
                  << p["contact"].asString() << "  approvals " << p["approvals"].size() << "/"
                  << p["needed"].asUInt64() << ", rejections " << p["rejections"].size() << "\n";
}

// Per issuing member, the certificates and distinct users of each day.
void print_audit(const Json::Value& v) {
    std::cout << "certificates issued since " << v["first_day"].asString() << ", from the ledgers of "
              << v["members_asked"].asUInt64() - v["unanswered"].size() << " of " << v["members_asked"].asUInt64()
              << " members\n";
    for (const auto& u : v["unanswered"]) std::cout << "  no answer: " << u.asString() << "\n";
    if (v["truncated"].asBool()) std::cout << "  (some ledger held more than one answer carries: counts are low)\n";
    for (const auto& issuer : v["issuers"]) {
        std::cout << "\n" << issuer["node_id"].asString() << "  " << issuer["contact"].asString()
                  << (issuer["member"].asBool() ? "" : "  (not a member now)") << "\n";
        if (issuer["days"].empty()) std::cout << "  none\n";
        for (const auto& d : issuer["days"])
            std::cout << "  " << d["day"].asString() << "  " << (d["at_least"].asBool() ? "at least " : "")
                      << d["certificates"].asUInt64() << " certificates for " << d["users"].asUInt64() << " users\n";
    }
}

}  // namespace

int run_admin(const std::vector<std::string>& args) {
    po::options_description o(
        "Usage: dhtalk admin pending [--json]\n"
        "       dhtalk admin approve|reject NODE_ID\n"
        "       dhtalk admin ban NODE_ID --reason TEXT\n"
        "       dhtalk admin audit [--days N] [--json]\n\n"
        "Votes of this node's operator in the trusted network. An application is\n"
        "admitted, and a ban carried, when more than the network's quorum of members\n"
        "approve; a member approves at most one change per roster epoch.\n"
        "'audit' counts, per member and day, the user certificates it issued and for\n"
        "how many users, from every member's ledger of the issuance logs: a member\n"
        "issuing far more than its users register may be forging identities.\n\n"
        "Options");
    o.add_options()
        ("help,h", "print this help")
        ("data-dir", po::value<std::string>()->default_value("./dhtalk-data"), "the local node's data directory")
        ("reason", po::value<std::string>()->default_value(""), "why (required for ban)")
        ("json", "print data as JSON")
        ("days", po::value<unsigned>()->default_value(7), "audit: the last N days, today included (1 to 31)")
        ("action", po::value<std::string>(), "pending, approve, reject or ban")
        ("node-id", po::value<std::string>(), "the node voted on");
    po::positional_options_description pos;
    pos.add("action", 1).add("node-id", 1);
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(args).options(o).positional(pos).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        return fail("admin", 2, describe_option_error(e, holds_percent(args)) + " (see dhtalk admin --help)");
    }
    if (vm.count("help") || !vm.count("action")) {
        std::cout << o;
        return vm.count("help") ? 0 : 2;
    }
    const std::string action = vm["action"].as<std::string>();
    auto target = find_node(vm["data-dir"].as<std::string>());
    if (!target) return fail("admin", 1, target.status().message());

    if (action == "pending") {
        auto v = call(*target, "GET", "/admin/pending");
        if (!v) return fail("admin", 1, v.status().message());
        if (vm.count("json"))
            std::cout << json::to_compact(*v) << "\n";
        else
            print_pending(*v);
        return 0;
    }
    if (action == "audit") {
        const unsigned days = vm["days"].as<unsigned>();
        if (days < 1 || days > 31) return fail("admin", 2, "--days takes 1 to 31");
        // One exchange per member: more time than a vote.
        auto v = call(*target, "GET", "/admin/audit?days=" + std::to_string(days), {}, 120);
        if (!v) return fail("admin", 1, v.status().message());
        if (vm.count("json"))
            std::cout << json::to_compact(*v) << "\n";
        else
            print_audit(*v);
        return 0;
    }
    if (action != "approve" && action != "reject" && action != "ban")
        return fail("admin", 2, "unknown action '" + action + "' (pending, approve, reject, ban or audit)");
    if (!vm.count("node-id")) return fail("admin", 2, action + " needs the NODE_ID voted on");
    const std::string reason = vm["reason"].as<std::string>();
    if (action == "ban" && reason.empty()) return fail("admin", 2, "ban needs --reason TEXT");
    Json::Value req(Json::objectValue);
    req["change"] = action == "ban" ? "ban" : "admit";
    req["decision"] = action == "reject" ? "reject" : "approve";
    req["node_id"] = vm["node-id"].as<std::string>();
    req["reason"] = reason;
    auto v = call(*target, "POST", "/admin/vote", json::to_compact(req));
    if (!v) return fail("admin", 1, v.status().message());
    std::cout << "ballot cast: " << action << " " << req["node_id"].asString() << "\n";
    return 0;
}

}  // namespace dhtalk::cli
