#include "node/front/member_request.h"

#include <cstdlib>

#include "crypto/fast_key.h"

namespace dhtalk {

Status check_member_request(const MemberRequest& r, const MemberRequestRules& rules) {
    const std::string what = r.what;
    if (r.network_id != rules.network_id) return Status::invalid(what + " for another network");
    if (r.to != rules.self) return Status::invalid(what + " for another node (" + r.to + ")");
    if (rules.fast_key.empty()) return Status::denied(what + " from " + r.from + ", not a current member");
    if (!crypto::verify_fast(rules.fast_key, r.body, r.signature))
        return Status::denied(what + " that " + r.from + "'s key did not sign");
    const auto skew = std::chrono::milliseconds(std::llabs(to_unix_millis(rules.now) - r.sent_ms));
    if (skew > rules.max_skew)
        return Status::invalid(what + " sent " + std::to_string(skew.count() / 1000) + " s away from this node's clock");
    return Status::ok();
}

}  // namespace dhtalk
