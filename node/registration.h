#pragma once
// Registrations: the verification codes a node has sent and the abuse limits
// around them. A passive core: it is given the time and a source of random
// numbers, and holds no phone number, only user ids (the number itself goes
// to the verification provider and is forgotten).
//
// Limits, over a sliding window (default 30 minutes): each code sent and
// each wrong code count against both the user id and the client address.
// Codes expire (default 15 minutes) and are single-use. Not thread-safe:
// the front end's loop owns it.

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <unordered_map>

#include "common/clock.h"
#include "common/status.h"

namespace dhtalk {

struct RegistrationLimits {
    std::chrono::seconds code_lifetime{std::chrono::minutes(15)};
    std::chrono::seconds window{std::chrono::minutes(30)};
    unsigned attempts_per_user = 5;      // codes sent + wrong codes, per user id
    unsigned attempts_per_address = 10;  // codes sent + wrong codes, per client address
    size_t max_tracked = 100000;         // user ids and addresses tracked at once
};

inline constexpr size_t kVerificationCodeDigits = 6;

class Registrations {
public:
    // `random` returns uniformly random 32-bit numbers (a cryptographic source
    // in the node).
    Registrations(RegistrationLimits limits, std::function<uint32_t()> random);

    // A new code for `user_id`, asked for from `address`; it replaces any
    // earlier code. kResourceExhausted when a limit is reached.
    Result<std::string> start(const std::string& user_id, const std::string& address, SteadyTime now);
    // Checks and consumes the code. kPermissionDenied for a wrong code (it
    // counts against the limits), kNotFound for no code or an expired one,
    // kResourceExhausted when the limits are spent.
    Status verify(const std::string& user_id, const std::string& code, const std::string& address, SteadyTime now);

    size_t pending() const { return codes_.size(); }

private:
    struct Pending {
        std::string code;
        SteadyTime expires;
    };
    // Attempts within the window for `key`, after dropping older ones.
    size_t attempts(const std::string& key, SteadyTime now);
    void count(const std::string& key, SteadyTime now);
    Status check_limits(const std::string& user_key, const std::string& address_key, SteadyTime now);
    void forget_stale(SteadyTime now);

    RegistrationLimits limits_;
    std::function<uint32_t()> random_;
    std::unordered_map<std::string, Pending> codes_;  // by user id
    std::unordered_map<std::string, std::deque<SteadyTime>> attempts_;  // by "u:" user id or "a:" address
};

}  // namespace dhtalk
