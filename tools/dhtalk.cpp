// dhtalk: the command line for clients and operators. One subcommand per
// capability; each parses its own options and returns its exit status.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "dhtalk_version.h"
#include "tools/admin_command.h"
#include "tools/status_command.h"
#include "tools/user_commands.h"

namespace {

const char* kUsage =
    "Usage: dhtalk COMMAND [OPTIONS]\n\n"
    "Commands:\n"
    "  register   register a phone number (a node sends a code)\n"
    "  verify     finish registering with the code: get your user certificate\n"
    "  whoami     this profile's user\n"
    "  vcard      publish or read a vCard (set, get)\n"
    "  resolve    find a user by phone number or user id\n"
    "  block, unblock, allow, disallow, privacy   your privacy list\n"
    "  media      publish a file's metadata, or read it from a reference\n"
    "  presence   set yours, get or watch others' (as their privacy lists allow)\n"
    "  send       send a user a message, end-to-end encrypted\n"
    "  inbox      print the messages received since last time\n"
    "  read       tell a user you read their messages\n"
    "  sent       your sent messages and what became of them (stored, delivered, read)\n"
    "  history    the conversation with a user, from this profile\n"
    "  trust      accept a contact's new key (sending and receiving refuse a changed key until then)\n"
    "  keys       every certificate issued for a user, from their issuance log\n"
    "  nodes      the network's members: where clients reach them and their load\n"
    "  devices    your devices; 'devices remove ID' takes one off\n"
    "  status     print a running node's status (--json for scripts)\n"
    "  admin      vote in the trusted network: pending, approve, reject, ban; audit issuances\n\n"
    "Run 'dhtalk COMMAND --help' for a command's options.\n"
    "Exit status: 0 success, 1 failure, 2 usage error.\n";

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fputs(kUsage, stderr);
        return 2;
    }
    const std::string command = argv[1];
    const std::vector<std::string> args(argv + 2, argv + argc);
    if (command == "--help" || command == "-h" || command == "help") {
        std::fputs(kUsage, stdout);
        return 0;
    }
    if (command == "--version") {
        std::printf("dhtalk %s\n", DHTALK_VERSION);
        return 0;
    }
    if (command == "status") return dhtalk::cli::run_status(args);
    if (command == "admin") return dhtalk::cli::run_admin(args);
    if (dhtalk::cli::is_user_command(command)) return dhtalk::cli::run_user_command(command, args);
    std::fprintf(stderr, "dhtalk: unknown command '%s'\n%s", command.c_str(), kUsage);
    return 2;
}
