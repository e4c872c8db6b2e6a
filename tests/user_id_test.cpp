// Phone numbers to user ids: E.164 normalisation, the kontalk-sha1 scheme,
// and refusal of anything that is not a phone number.
#include "crypto/user_id.h"

#include "tests/doctest.h"

using namespace dhtalk::crypto;

TEST_CASE("E.164 normalisation accepts common spellings") {
    CHECK(*normalize_e164("+15555245554") == "+15555245554");
    CHECK(*normalize_e164("+1 (555) 524-5554") == "+15555245554");
    CHECK(*normalize_e164("0015555245554") == "+15555245554");
    CHECK(*normalize_e164("+39.06.1234.5678") == "+390612345678");
}

TEST_CASE("E.164 normalisation refuses what is not a phone number") {
    for (const char* bad : {"", "+", "5555245554", "+1555a245554", "+0123456789", "+1234567", "+1234567890123456",
                            "++15555245554", "+1555524555+4", "+1\n5555245554"}) {
        CAPTURE(bad);
        CHECK_FALSE(normalize_e164(bad).is_ok());
    }
    CHECK_FALSE(normalize_e164(std::string(100, '1')).is_ok());
}

TEST_CASE("kontalk-sha1: lowercase hex SHA-1 of the E.164 string, as Kontalk computes it") {
    auto id = derive_user_id("kontalk-sha1", "+15555245554");
    REQUIRE(id.is_ok());
    CHECK(*id == "a02ee628305f0ab754510b2a6c283f63db1cb965");
    CHECK(is_user_id("kontalk-sha1", *id));
    CHECK_FALSE(is_user_id("kontalk-sha1", "A02EE628305F0AB754510B2A6C283F63DB1CB965"));
    CHECK_FALSE(derive_user_id("kontalk-sha1", "+1 555 524 5554").is_ok());  // not normalised
    CHECK_FALSE(derive_user_id("oprf", "+15555245554").is_ok());           // unknown scheme
}
