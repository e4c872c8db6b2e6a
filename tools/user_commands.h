#pragma once
// The `dhtalk` commands of a user: register, verify, whoami, vcard, resolve,
// block, unblock, allow, disallow, privacy, media, presence, and the
// messages' send, inbox and history (message_commands.h). Each shares --profile
// DIR, --node HOST:PORT (repeatable: tried in order, failing over), --json
// and --timeout, and returns the process exit status (0 done, 1 failed,
// 2 usage error).

#include <string>
#include <vector>

namespace dhtalk::cli {

bool is_user_command(const std::string& command);
int run_user_command(const std::string& command, const std::vector<std::string>& args);

}  // namespace dhtalk::cli
