#pragma once
// `dhtalk admin`: the operator's votes in the trusted network, through the
// local node's admin interface (loopback, with the data directory's secret).
//   dhtalk admin pending [--json]
//   dhtalk admin approve NODE_ID      dhtalk admin reject NODE_ID
//   dhtalk admin ban NODE_ID --reason TEXT

#include <string>
#include <vector>

namespace dhtalk::cli {

// Returns the exit status: 0 done, 1 refused or unreachable, 2 usage error.
int run_admin(const std::vector<std::string>& args);

}  // namespace dhtalk::cli
