#pragma once
// The checks every signed request between members passes before a service
// (the registrar, the inbox holder) acts on it: for this network and this
// node, signed by the fast key the roster lists for its sender, and sent
// within `max_skew` of this node's clock. Thread-safe, no state.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/status.h"

namespace dhtalk {

struct MemberRequest {
    const char* what;  // "a registrar request": how errors name it
    uint32_t network_id;
    const std::string& from;
    const std::string& to;
    int64_t sent_ms;
    std::string_view body;  // what the signature covers
    std::string_view signature;
};

struct MemberRequestRules {
    uint32_t network_id;
    const std::string& self;       // this node's id
    const std::string& fast_key;   // the sender's, from the roster; empty if it is no member
    WallTime now;
    std::chrono::seconds max_skew;
};

// kInvalidArgument (another network or node, too far from the clock) or
// kPermissionDenied (not a member, not its signature), naming why.
Status check_member_request(const MemberRequest& r, const MemberRequestRules& rules);

}  // namespace dhtalk
