#include "node/registration.h"

#include <cstdio>

namespace dhtalk {

Registrations::Registrations(RegistrationLimits limits, std::function<uint32_t()> random)
    : limits_(limits), random_(std::move(random)) {}

size_t Registrations::attempts(const std::string& key, SteadyTime now) {
    auto it = attempts_.find(key);
    if (it == attempts_.end()) return 0;
    auto& times = it->second;
    while (!times.empty() && times.front() + limits_.window <= now) times.pop_front();
    if (times.empty()) {
        attempts_.erase(it);
        return 0;
    }
    return times.size();
}

void Registrations::count(const std::string& key, SteadyTime now) { attempts_[key].push_back(now); }

void Registrations::forget_stale(SteadyTime now) {
    for (auto it = codes_.begin(); it != codes_.end();) it = it->second.expires <= now ? codes_.erase(it) : std::next(it);
    for (auto it = attempts_.begin(); it != attempts_.end();) {
        auto& times = it->second;
        while (!times.empty() && times.front() + limits_.window <= now) times.pop_front();
        it = times.empty() ? attempts_.erase(it) : std::next(it);
    }
}

Status Registrations::check_limits(const std::string& user_key, const std::string& address_key, SteadyTime now) {
    if (attempts(user_key, now) >= limits_.attempts_per_user)
        return Status::exhausted("too many attempts for this number: wait " +
                                 std::to_string(limits_.window.count() / 60) + " minutes and register again");
    if (attempts(address_key, now) >= limits_.attempts_per_address)
        return Status::exhausted("too many registration attempts from this address: try again later");
    if (attempts_.size() + 2 > limits_.max_tracked || codes_.size() + 1 > limits_.max_tracked) forget_stale(now);
    if (attempts_.size() + 2 > limits_.max_tracked || codes_.size() + 1 > limits_.max_tracked)
        return Status::exhausted("this node is handling too many registrations: try again later or another node");
    return Status::ok();
}

Result<std::string> Registrations::start(const std::string& user_id, const std::string& address, SteadyTime now) {
    const std::string user_key = "u:" + user_id, address_key = "a:" + address;
    DHTALK_TRY(check_limits(user_key, address_key, now));
    count(user_key, now);
    count(address_key, now);
    // Rejection sampling keeps the six digits uniform.
    constexpr uint32_t kRange = 1000000;  // kVerificationCodeDigits decimal digits
    static_assert(kVerificationCodeDigits == 6);
    constexpr uint32_t kLimit = UINT32_MAX - UINT32_MAX % kRange;
    uint32_t r;
    do r = random_(); while (r >= kLimit);
    char code[8];
    std::snprintf(code, sizeof code, "%06u", r % kRange);
    codes_[user_id] = Pending{code, now + limits_.code_lifetime};
    return std::string(code);
}

Status Registrations::verify(const std::string& user_id, const std::string& code, const std::string& address,
                             SteadyTime now) {
    const std::string user_key = "u:" + user_id, address_key = "a:" + address;
    DHTALK_TRY(check_limits(user_key, address_key, now));
    auto it = codes_.find(user_id);
    if (it == codes_.end() || it->second.expires <= now) {
        if (it != codes_.end()) codes_.erase(it);
        return Status::not_found("no code is waiting for this number, or it has expired: register again");
    }
    if (it->second.code != code) {
        count(user_key, now);
        count(address_key, now);
        return Status::denied("wrong verification code");
    }
    codes_.erase(it);
    return Status::ok();
}

}  // namespace dhtalk
