#include "node/front/registration.h"

#include <charconv>
#include <cstdio>

namespace dhtalk {
namespace {

constexpr std::string_view kPrefix = "rl/";
constexpr size_t kMaxTimes = 256;  // more than any limit: a stored list longer than this is cut

std::string encode_times(const std::deque<WallTime>& times) {
    std::string out;
    for (const auto& t : times) {
        if (!out.empty()) out += ',';
        out += std::to_string(to_unix_millis(t));
    }
    return out;
}

// A damaged entry reads as no attempts: the limit errs towards the user.
std::deque<WallTime> decode_times(std::string_view text, size_t max) {
    std::deque<WallTime> out;
    while (!text.empty() && out.size() < max) {
        const auto comma = text.find(',');
        const auto item = text.substr(0, comma);
        int64_t ms = 0;
        auto r = std::from_chars(item.data(), item.data() + item.size(), ms);
        if (r.ec != std::errc() || r.ptr != item.data() + item.size()) return {};
        out.push_back(from_unix_millis(ms));
        if (comma == std::string_view::npos) break;
        text.remove_prefix(comma + 1);
    }
    return out;
}

}  // namespace

Registrations::Registrations(RegistrationLimits limits, std::function<uint32_t()> random, Store* store)
    : limits_(limits), random_(std::move(random)), store_(store) {}

Registrations::Keys Registrations::keys_for(const std::string& user_id, const std::string& address) {
    return {"c:" + user_id, "c:" + user_id + "/" + address, "w:" + user_id, "w:" + user_id + "/" + address,
            "a:" + address};
}

std::deque<WallTime>& Registrations::times_of(const std::string& key) {
    auto it = attempts_.find(key);
    if (it != attempts_.end()) return it->second;
    std::deque<WallTime> loaded;
    if (store_)
        if (auto text = store_->get(std::string(kPrefix) + key))
            loaded = decode_times(*text, kMaxTimes);
    return attempts_.emplace(key, std::move(loaded)).first->second;
}

size_t Registrations::attempts(const std::string& key, WallTime now) {
    auto& times = times_of(key);
    while (!times.empty() && times.front() + limits_.window <= now) times.pop_front();
    return times.size();
}

void Registrations::save(const std::string& key, const std::deque<WallTime>& times) {
    if (!store_) return;
    // Best effort: a write that fails costs the limit a restart, nothing more.
    if (times.empty()) store_->erase(std::string(kPrefix) + key).ignore_error();
    else store_->put(std::string(kPrefix) + key, encode_times(times)).ignore_error();
}

void Registrations::count_key(const std::string& key, WallTime now) {
    auto& times = times_of(key);
    times.push_back(now);
    save(key, times);
}

void Registrations::count(const Keys& keys, Attempt kind, WallTime now) {
    if (kind == Attempt::kCode) {
        count_key(keys.codes_user, now);
        count_key(keys.codes_user_address, now);
    } else {
        count_key(keys.wrong_user, now);
        count_key(keys.wrong_user_address, now);
    }
    count_key(keys.address, now);
}

void Registrations::forget_stale(WallTime now) {
    forget_stale_in_memory(now);
    prune_store(now);
}

void Registrations::forget_stale_in_memory(WallTime now) {
    for (auto it = codes_.begin(); it != codes_.end();) it = it->second.expires <= now ? codes_.erase(it) : std::next(it);
    for (auto it = attempts_.begin(); it != attempts_.end();) {
        auto& times = it->second;
        while (!times.empty() && times.front() + limits_.window <= now) times.pop_front();
        it = times.empty() ? attempts_.erase(it) : std::next(it);
    }
}

void Registrations::prune_store(WallTime now) {
    if (!store_) return;
    std::vector<std::string> stale;
    store_
        ->scan(kPrefix,
               [&](std::string_view k, std::string_view v) {
                   auto times = decode_times(v, kMaxTimes);
                   if (times.empty() || times.back() + limits_.window <= now) stale.emplace_back(k);
                   return stale.size() < 100000;
               })
        .ignore_error();
    for (const auto& k : stale) store_->erase(k).ignore_error();
}

Status Registrations::check_limits(const Keys& keys, Attempt kind, WallTime now) {
    const std::string wait = "wait " + std::to_string(limits_.window.count() / 60) + " minutes and register again";
    // Wrong codes bound every verification, right or not: past the bound no guess is heard.
    if (attempts(keys.wrong_user_address, now) >= limits_.wrong_per_user_address)
        return Status::exhausted("too many wrong codes for this number from this address: " + wait);
    if (attempts(keys.wrong_user, now) >= limits_.wrong_per_user)
        return Status::exhausted("too many wrong codes for this number: " + wait);
    if (kind == Attempt::kCode) {
        if (attempts(keys.codes_user_address, now) >= limits_.codes_per_user_address)
            return Status::exhausted("too many codes for this number from this address: " + wait);
        if (attempts(keys.codes_user, now) >= limits_.codes_per_user)
            return Status::exhausted("too many codes for this number: " + wait);
    }
    // A verification is still heard at the bound itself: the last code the
    // address could ask for must be usable, and a wrong guess then takes the
    // address past the bound.
    const unsigned address_bound = limits_.attempts_per_address + (kind == Attempt::kWrong ? 1 : 0);
    if (attempts(keys.address, now) >= address_bound)
        return Status::exhausted("too many registration attempts from this address: try again later");
    if (attempts_.size() + 5 > limits_.max_tracked || codes_.size() + 1 > limits_.max_tracked)
        forget_stale_in_memory(now);
    if (attempts_.size() + 5 > limits_.max_tracked || codes_.size() + 1 > limits_.max_tracked)
        return Status::exhausted("this node is handling too many registrations: try again later or another node");
    return Status::ok();
}

Status Registrations::admit_address(const std::string& address, WallTime now) {
    if (attempts("a:" + address, now) >= limits_.attempts_per_address)
        return Status::exhausted("too many registration attempts from this address: try again later");
    if (attempts_.size() + 1 > limits_.max_tracked) forget_stale_in_memory(now);
    if (attempts_.size() + 1 > limits_.max_tracked)
        return Status::exhausted("this node is handling too many registrations: try again later or another node");
    count_key("a:" + address, now);
    return Status::ok();
}

Result<std::string> Registrations::start(const std::string& user_id, const std::string& address, WallTime now) {
    const Keys keys = keys_for(user_id, address);
    DHTALK_TRY(check_limits(keys, Attempt::kCode, now));
    count(keys, Attempt::kCode, now);
    // Rejection sampling keeps the six digits uniform.
    constexpr uint32_t kRange = 1000000;  // kVerificationCodeDigits decimal digits
    static_assert(kVerificationCodeDigits == 6);
    constexpr uint32_t kLimit = UINT32_MAX - UINT32_MAX % kRange;
    uint32_t r;
    do r = random_(); while (r >= kLimit);
    char code[8];
    std::snprintf(code, sizeof code, "%06u", r % kRange);
    codes_[user_id] = Pending{code, now + limits_.code_lifetime, 0};
    return std::string(code);
}

Status Registrations::verify(const std::string& user_id, const std::string& code, const std::string& address,
                             WallTime now) {
    const Keys keys = keys_for(user_id, address);
    DHTALK_TRY(check_limits(keys, Attempt::kWrong, now));
    auto it = codes_.find(user_id);
    if (it == codes_.end() || it->second.expires <= now) {
        if (it != codes_.end()) codes_.erase(it);
        return Status::not_found("no code is waiting for this number, or it has expired: register again");
    }
    if (it->second.code != code) {
        count(keys, Attempt::kWrong, now);
        if (++it->second.wrong >= limits_.guesses_per_code) {
            codes_.erase(it);
            return Status::denied("wrong verification code; that was its last try: register again for a new one");
        }
        return Status::denied("wrong verification code");
    }
    codes_.erase(it);
    return Status::ok();
}

}  // namespace dhtalk
