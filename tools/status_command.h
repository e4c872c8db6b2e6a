#pragma once
// `dhtalk status`: reads a node's GET /status and prints it for a person or,
// with --json, for scripts. The node is found by its data directory's
// runtime.json or given as --node HOST:PORT (its HTTP status address).

#include <string>
#include <vector>

namespace dhtalk::cli {

// Returns the process exit status: 0 printed, 1 node unreachable or its
// answer malformed, 2 usage error.
int run_status(const std::vector<std::string>& args);

}  // namespace dhtalk::cli
