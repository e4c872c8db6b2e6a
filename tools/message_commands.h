#pragma once
// The `dhtalk` commands about messages: send, inbox, read, sent, history and trust
// (docs/messaging.md). Parsed with the other user commands
// (user_commands.h); each returns the process exit status.

#include <filesystem>
#include <string>
#include <vector>

#include "client/client.h"

namespace dhtalk::cli {

struct MessageOptions {
    bool json = false;    // --json: one JSON object a line
    bool follow = false;  // inbox --follow
    std::filesystem::path file;  // send --file: an attachment
    std::string type = "application/octet-stream";  // send --type: its media type
    std::filesystem::path save_to;  // inbox: where attachments are saved
};

// `positional` follows the command's name.
int run_message_command(const std::string& command, const std::vector<std::string>& positional, client::Client& c,
                        const MessageOptions& options);

}  // namespace dhtalk::cli
