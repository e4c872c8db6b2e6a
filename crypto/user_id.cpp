#include "crypto/user_id.h"

#include <gnutls/crypto.h>

#include <array>

#include "crypto/signing.h"

namespace dhtalk::crypto {

Result<std::string> normalize_e164(std::string_view number) {
    if (number.size() > 64) return Status::invalid("a phone number is at most 64 characters");
    std::string digits;
    bool plus = false;
    for (size_t i = 0; i < number.size(); ++i) {
        const char c = number[i];
        if (c >= '0' && c <= '9') {
            digits.push_back(c);
        } else if (c == '+' && digits.empty() && !plus) {
            plus = true;
        } else if (c != ' ' && c != '-' && c != '.' && c != '(' && c != ')') {
            return Status::invalid("'" + std::string(number) + "' is not a phone number (unexpected '" +
                                   std::string(1, c) + "')");
        }
    }
    if (!plus) {
        if (digits.rfind("00", 0) != 0)
            return Status::invalid("'" + std::string(number) + "' lacks its country code: write it as +CC...");
        digits.erase(0, 2);
    }
    if (digits.size() < 8 || digits.size() > 15 || digits.front() == '0')
        return Status::invalid("'" + std::string(number) + "' is not an E.164 number (+, then 8 to 15 digits)");
    return "+" + digits;
}

Result<std::string> derive_user_id(std::string_view scheme, std::string_view e164) {
    auto normal = normalize_e164(e164);
    if (!normal) return normal.status();
    if (*normal != e164) return Status::invalid("derive_user_id takes a normalised E.164 number");
    if (scheme != "kontalk-sha1") return Status::invalid("unknown user id scheme '" + std::string(scheme) + "'");
    std::array<unsigned char, 20> digest{};
    // SHA-1 over a short in-memory string cannot fail short of a broken library.
    if (gnutls_hash_fast(GNUTLS_DIG_SHA1, normal->data(), normal->size(), digest.data()) != 0) std::abort();
    return to_hex({reinterpret_cast<const char*>(digest.data()), digest.size()});
}

bool is_user_id(std::string_view scheme, std::string_view id) {
    return scheme == "kontalk-sha1" && is_lower_hex(id, 40);
}

}  // namespace dhtalk::crypto
