#pragma once
// User ids: how a phone number becomes the id a user is found by. A network
// chooses its scheme at founding; every derivation goes through
// derive_user_id() so that another scheme (a rate-limited threshold OPRF, on
// the roadmap) replaces one function. `kontalk-sha1` is lowercase hex SHA-1
// of the E.164 string, as the existing Kontalk network computes it; it is
// trivially reversible, so the ids it yields hide nothing. Thread-safe.

#include <string>
#include <string_view>

#include "common/status.h"

namespace dhtalk::crypto {

// "+15555245554" from "+1 (555) 524-5554" or "0015555245554": a '+' (or a
// leading "00") then 8 to 15 digits, the first not 0. Spaces, dashes, dots
// and parentheses are dropped; anything else is refused.
Result<std::string> normalize_e164(std::string_view number);

// The user id of a normalised E.164 number under `scheme`.
Result<std::string> derive_user_id(std::string_view scheme, std::string_view e164);

// Whether `id` has the form of a `scheme` user id.
bool is_user_id(std::string_view scheme, std::string_view id);

}  // namespace dhtalk::crypto
