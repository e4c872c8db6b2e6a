#pragma once
// A member's load as a node tells its clients (the `nodes` request,
// docs/protocol.md): one line of text, "NODE_ID STATE SESSIONS CAPACITY",
// where STATE is alive, suspect or dead as the node's membership protocol
// sees the member. Hearsay, unsigned: a client uses it only to order
// members the roster it verified lists. Parsing treats its input as hostile.

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace dhtalk {

inline constexpr size_t kMaxMemberLoadBytes = 128;
// A client follows at most this many redirects in a row, and a node sends
// none to a client that says it followed as many: two nodes that send
// logins to each other cannot bounce a client for ever.
inline constexpr uint64_t kMaxRedirects = 3;

struct MemberLoad {
    std::string node_id;  // 40 hex digits
    std::string state;    // alive, suspect or dead
    uint32_t sessions = 0;
    uint32_t capacity = 0;

    // Sessions per capacity; 1 for a member that names no capacity.
    double utilisation() const { return capacity ? static_cast<double>(sessions) / capacity : 1.0; }
};

std::string format_member_load(const MemberLoad& load);
Result<MemberLoad> parse_member_load(std::string_view line);

}  // namespace dhtalk
