#pragma once
// Registrations: the verification codes a node has sent and the abuse limits
// around them. A passive core: it is given the time and a source of random
// numbers, and holds no phone number, only user ids (the number itself goes
// to the verification provider and is forgotten).
//
// Limits, over a sliding window (default 30 minutes): a number is sent at
// most 5 codes and takes at most 4 wrong codes, and from any one address at
// most 2 of each, so locking a number out takes at least two addresses while
// a guesser still has 4 guesses per number and window; one address makes at
// most 10 attempts (codes asked, wrong codes) over all numbers, and one
// verification more, so that the last code it was sent can be used. Addresses
// are counted as the front end gives them (IPv6 by /64). A code allows
// 3 wrong guesses, then it is burnt; codes expire (default 15 minutes) and
// are single-use. A code is verified only by the node that
// sent it; in a network that is the number's registrar (registrar.h), so
// the limits on a number hold network-wide. With a store, the attempts are kept in it (`rl/`), so a restart
// does not reset the limits; codes are not (a restart voids them).
// Not thread-safe: its owner (the Registrar) guards it.

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <unordered_map>

#include "common/clock.h"
#include "common/status.h"
#include "storage/store.h"

namespace dhtalk {

struct RegistrationLimits {
    std::chrono::seconds code_lifetime{std::chrono::minutes(15)};
    std::chrono::seconds window{std::chrono::minutes(30)};
    unsigned codes_per_user_address = 2;   // codes sent, per number and client address
    unsigned codes_per_user = 5;           // codes sent, per number from all addresses
    unsigned wrong_per_user_address = 2;   // wrong codes, per number and client address
    unsigned wrong_per_user = 4;           // wrong codes, per number from all addresses
    unsigned attempts_per_address = 10;    // codes asked + wrong codes, per client address over all numbers
    unsigned guesses_per_code = 3;         // wrong codes before the code is burnt
    size_t max_tracked = 100000;             // keys tracked at once
};

inline constexpr size_t kVerificationCodeDigits = 6;

class Registrations {
public:
    // `random` returns uniformly random 32-bit numbers (a cryptographic source
    // in the node). `store`, if given, keeps the attempts and must outlive this.
    Registrations(RegistrationLimits limits, std::function<uint32_t()> random, Store* store = nullptr);

    // A new code for `user_id`, asked for from `address`; it replaces any
    // earlier code. kResourceExhausted when a limit is reached.
    Result<std::string> start(const std::string& user_id, const std::string& address, WallTime now);
    // Checks and consumes the code. kPermissionDenied for a wrong code (it
    // counts against the limits), kNotFound for no code, an expired one or a
    // burnt one, kResourceExhausted when the limits are spent.
    Status verify(const std::string& user_id, const std::string& code, const std::string& address, WallTime now);

    // The per-address limit alone, for a node that passes a request on to
    // the number's registrar (registrar.h): counts it as an attempt, or
    // kResourceExhausted when the address has spent its attempts.
    Status admit_address(const std::string& address, WallTime now);

    size_t pending() const { return codes_.size(); }
    // Drops expired codes and attempts, in memory and in the store (a scan
    // of every stored attempt: the node calls it at start).
    void forget_stale(WallTime now);

private:
    struct Pending {
        std::string code;
        WallTime expires;
        unsigned wrong = 0;
    };
    struct Keys {
        std::string codes_user, codes_user_address, wrong_user, wrong_user_address, address;
    };
    enum class Attempt { kCode, kWrong };
    static Keys keys_for(const std::string& user_id, const std::string& address);
    // Attempts within the window for `key`, after dropping older ones.
    size_t attempts(const std::string& key, WallTime now);
    std::deque<WallTime>& times_of(const std::string& key);  // loaded from the store on first use
    void count(const Keys& keys, Attempt kind, WallTime now);
    void count_key(const std::string& key, WallTime now);
    void save(const std::string& key, const std::deque<WallTime>& times);
    Status check_limits(const Keys& keys, Attempt kind, WallTime now);
    void forget_stale_in_memory(WallTime now);
    void prune_store(WallTime now);

    RegistrationLimits limits_;
    std::function<uint32_t()> random_;
    Store* store_;
    std::unordered_map<std::string, Pending> codes_;  // by user id
    // By "c:"/"w:" (codes, wrong codes) user id, "c:"/"w:" user id "/"
    // address, and "a:" address.
    std::unordered_map<std::string, std::deque<WallTime>> attempts_;
};

}  // namespace dhtalk
