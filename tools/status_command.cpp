#include "tools/status_command.h"

#include <cstdio>
#include <iostream>

#include <boost/program_options.hpp>
#include <httplib.h>

#include "common/json.h"
#include "tools/cli_error.h"
#include "common/option_error.h"
#include "common/host_port.h"
#include "node/node_status.h"
#include "node/runtime_info.h"

namespace po = boost::program_options;

namespace dhtalk::cli {
namespace {

constexpr size_t kMaxStatusBytes = 64 * 1024;

}  // namespace

int run_status(const std::vector<std::string>& args) {
    po::options_description o("Usage: dhtalk status [--data-dir DIR | --node HOST:PORT] [--json]\n\n"
                              "Prints a running node's status: id, network, peers, stored values, counters.\n\n"
                              "Options");
    o.add_options()
        ("help,h", "print this help")
        ("data-dir", po::value<std::string>()->default_value("./dhtalk-data"),
         "the node's data directory (its runtime.json says where it serves status)")
        ("node", po::value<std::string>(), "HOST:PORT of the node's status server, instead of --data-dir")
        ("json", "print the status as JSON");
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(args).options(o).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        return fail("status", 2, describe_option_error(e, holds_percent(args)) + " (see dhtalk status --help)");
    }
    if (vm.count("help")) {
        std::cout << o;
        return 0;
    }
    if (vm.count("node") && !vm["data-dir"].defaulted())
        return fail("status", 2, "give --data-dir or --node, not both");

    std::string host;
    uint16_t port = 0;
    if (vm.count("node")) {
        auto hp = parse_host_port(vm["node"].as<std::string>());
        if (!hp) return fail("status", 2, "--node: " + hp.status().message());
        host = hp->first;
        port = hp->second;
    } else {
        auto rt = read_runtime_info(vm["data-dir"].as<std::string>());
        if (!rt) return fail("status", 1, rt.status().message());
        host = rt->http_address;
        port = rt->http_port;
    }

    httplib::Client client(host, port);
    client.set_connection_timeout(3, 0);
    client.set_read_timeout(5, 0);
    auto res = client.Get("/status");
    if (!res)
        return fail("status", 1, "cannot reach the node at " + host + ":" + std::to_string(port) + ": " +
                           httplib::to_string(res.error()));
    if (res->status != 200)
        return fail("status", 1, "the node at " + host + ":" + std::to_string(port) + " answered HTTP " +
                           std::to_string(res->status));
    auto json = json::parse_object(res->body, kMaxStatusBytes);
    if (!json) return fail("status", 1, "the node's answer is not valid: " + json.status().message());
    auto status = node_status_from_json(*json);
    if (!status) return fail("status", 1, "the node's answer is not valid: " + status.status().message());

    if (vm.count("json"))
        std::cout << json::to_compact(to_json(*status)) << "\n";
    else
        std::cout << to_text(*status);
    return 0;
}

}  // namespace dhtalk::cli
