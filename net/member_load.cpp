#include "net/member_load.h"

#include <charconv>

namespace dhtalk {
namespace {

bool parse_u32(std::string_view text, uint32_t& out) {
    if (text.empty() || text.size() > 10) return false;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

std::string format_member_load(const MemberLoad& load) {
    return load.node_id + " " + load.state + " " + std::to_string(load.sessions) + " " +
           std::to_string(load.capacity);
}

Result<MemberLoad> parse_member_load(std::string_view line) {
    const Status bad = Status::invalid("a member's load is 'NODE_ID STATE SESSIONS CAPACITY'");
    if (line.size() > kMaxMemberLoadBytes) return bad;
    std::string_view parts[4];
    size_t n = 0;
    while (!line.empty()) {
        const size_t space = line.find(' ');
        if (n == 4 || space == 0) return bad;
        parts[n++] = line.substr(0, space);
        if (space == std::string_view::npos) break;
        line = line.substr(space + 1);
        if (line.empty()) return bad;  // a trailing space
    }
    MemberLoad load;
    if (n != 4 || parts[0].size() != 40 || parts[0].find_first_not_of("0123456789abcdef") != std::string_view::npos)
        return bad;
    if (parts[1] != "alive" && parts[1] != "suspect" && parts[1] != "dead") return bad;
    load.node_id = parts[0];
    load.state = parts[1];
    if (!parse_u32(parts[2], load.sessions) || !parse_u32(parts[3], load.capacity)) return bad;
    return load;
}

}  // namespace dhtalk
