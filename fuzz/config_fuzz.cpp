// dhtalk-node's --config file: the input is written to a file and parsed
// with the command line, as the node does at start.
#include <unistd.h>

#include <cstdio>
#include <string>

#include "fuzz/fuzz_util.h"
#include "node/config.h"

using namespace dhtalk;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    // In the working folder: scripts/fuzz.sh runs each target in a scratch
    // folder of its own and removes it afterwards.
    static const std::string path = "config-fuzz-" + std::to_string(::getpid()) + ".ini";
    FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) return 0;
    std::fwrite(data, 1, size, f);
    std::fclose(f);
    const char* argv[] = {"dhtalk-node", "--config", path.c_str()};
    (void)parse_node_args(3, argv);
    return 0;
}
