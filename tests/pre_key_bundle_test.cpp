// The pre-key bundle's encoding (records/pre_key_bundle.h): a round trip,
// and refusal of every field out of shape.
#include "records/pre_key_bundle.h"

#include "tests/doctest.h"

using namespace dhtalk;

namespace {

std::string curve_key(char fill) {
    std::string k(kSignalPublicKeyBytes, fill);
    k[0] = 0x05;
    return k;
}

PreKeyBundle sample_bundle() {
    PreKeyBundle b;
    b.registration_id = 4242;
    b.device_id = 1;
    b.identity_key = curve_key('i');
    b.signed_pre_key_id = 1;
    b.signed_pre_key = curve_key('s');
    b.signed_pre_key_signature = std::string(kSignalSignatureBytes, 'g');
    for (uint32_t id = 1; id <= 3; ++id) b.pre_keys.emplace_back(id, curve_key(static_cast<char>('a' + id)));
    return b;
}

}  // namespace

TEST_CASE("a pre-key bundle round-trips") {
    auto bytes = encode_pre_key_bundle(sample_bundle());
    REQUIRE(bytes.is_ok());
    auto back = decode_pre_key_bundle(*bytes);
    REQUIRE(back.is_ok());
    CHECK(*back == sample_bundle());
}

TEST_CASE("a pre-key bundle out of shape is refused, encoding or decoding") {
    std::vector<std::pair<const char*, std::function<void(PreKeyBundle&)>>> cases = {
        {"registration id 0", [](PreKeyBundle& b) { b.registration_id = 0; }},
        {"registration id too large", [](PreKeyBundle& b) { b.registration_id = 0x80000000u; }},
        {"device id 0", [](PreKeyBundle& b) { b.device_id = 0; }},
        {"short identity key", [](PreKeyBundle& b) { b.identity_key.pop_back(); }},
        {"identity key of another type", [](PreKeyBundle& b) { b.identity_key[0] = 0x06; }},
        {"short signed pre-key", [](PreKeyBundle& b) { b.signed_pre_key.resize(5); }},
        {"short signature", [](PreKeyBundle& b) { b.signed_pre_key_signature.pop_back(); }},
        {"a one-time key twice", [](PreKeyBundle& b) { b.pre_keys[1].first = b.pre_keys[0].first; }},
        {"a bad one-time key", [](PreKeyBundle& b) { b.pre_keys[2].second = "x"; }},
        {"too many one-time keys",
         [](PreKeyBundle& b) {
             for (uint32_t id = 10; b.pre_keys.size() <= kMaxOneTimePreKeys; ++id) b.pre_keys.emplace_back(id, curve_key('z'));
         }},
    };
    for (const auto& [name, spoil] : cases) {
        CAPTURE(name);
        PreKeyBundle b = sample_bundle();
        spoil(b);
        CHECK(encode_pre_key_bundle(b).status().code() == Code::kInvalidArgument);
    }
    // Decoding: damage of every byte and every length is refused, never a crash.
    const std::string good = *encode_pre_key_bundle(sample_bundle());
    for (size_t cut = 0; cut < good.size(); ++cut) CHECK_FALSE(decode_pre_key_bundle(good.substr(0, cut)).is_ok());
    CHECK_FALSE(decode_pre_key_bundle(good + "x").is_ok());
    for (size_t i = 0; i < good.size(); ++i) {
        std::string bad = good;
        bad[i] = static_cast<char>(bad[i] ^ 0x80);
        auto decoded = decode_pre_key_bundle(bad);
        if (decoded.is_ok()) CHECK(check_pre_key_bundle(*decoded).is_ok());
        else CHECK(decoded.status().code() == Code::kCorruption);
    }
}
