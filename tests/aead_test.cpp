// AES-256-GCM: round trip, and refusal of anything altered or misdirected.
#include "crypto/aead.h"

#include "tests/doctest.h"

using namespace dhtalk::crypto;

namespace {

std::span<const uint8_t> bytes(const std::string& s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

}  // namespace

TEST_CASE("seal and open round-trip; any change is refused") {
    AeadKey key;
    random_bytes(key);
    auto aead = Aead::create(key);
    REQUIRE(aead.is_ok());
    AeadNonce nonce{};
    nonce[11] = 1;
    std::vector<uint8_t> sealed, opened;
    REQUIRE((*aead)->seal(nonce, bytes("header"), bytes("plain text"), sealed).is_ok());
    CHECK(sealed.size() == 10 + kAeadTagBytes);
    REQUIRE((*aead)->open(nonce, bytes("header"), sealed, opened).is_ok());
    CHECK(std::string(opened.begin(), opened.end()) == "plain text");

    auto flipped = sealed;
    flipped[0] ^= 1;
    CHECK((*aead)->open(nonce, bytes("header"), flipped, opened).code() == dhtalk::Code::kCorruption);
    CHECK((*aead)->open(nonce, bytes("HEADER"), sealed, opened).code() == dhtalk::Code::kCorruption);
    AeadNonce other = nonce;
    other[0] = 9;
    CHECK((*aead)->open(other, bytes("header"), sealed, opened).code() == dhtalk::Code::kCorruption);
    CHECK((*aead)->open(nonce, bytes("header"), std::span(sealed).first(5), opened).code() ==
          dhtalk::Code::kCorruption);
    AeadKey key2 = key;
    key2[0] ^= 0x80;
    auto wrong = Aead::create(key2);
    REQUIRE(wrong.is_ok());
    CHECK((*wrong)->open(nonce, bytes("header"), sealed, opened).code() == dhtalk::Code::kCorruption);
}

TEST_CASE("random bytes differ between calls") {
    AeadKey a, b;
    random_bytes(a);
    random_bytes(b);
    CHECK(a != b);
}
