#pragma once
// The `dhtalk` commands about messages: send, inbox and history
// (docs/messaging.md). Parsed with the other user commands
// (user_commands.h); each returns the process exit status.

#include <string>
#include <vector>

#include "client/client.h"

namespace dhtalk::cli {

// `positional` follows the command's name; `json` is --json.
int run_message_command(const std::string& command, const std::vector<std::string>& positional, client::Client& c,
                        bool json);

}  // namespace dhtalk::cli
