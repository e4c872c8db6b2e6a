#pragma once
// How every dhtalk command reports a failure: "dhtalk COMMAND: MESSAGE" on
// standard error, and the exit status the caller returns.

#include <cstdio>
#include <string>

namespace dhtalk::cli {

// Prints the message for `command` and returns `code` (1 failed, 2 usage).
inline int fail(const std::string& command, int code, const std::string& message) {
    std::fprintf(stderr, "dhtalk %s: %s\n", command.c_str(), message.c_str());
    return code;
}

}  // namespace dhtalk::cli
