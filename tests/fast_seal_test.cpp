// Sealing to fast keys (crypto/fast_seal.h): the Ed25519-to-X25519 map
// against a published vector, and every way an opening must fail.
#include <doctest/doctest.h>

#include <gnutls/x509.h>

#include "crypto/fast_key.h"
#include "crypto/fast_seal.h"
#include "crypto/signing.h"
#include "testing/test_util.h"

using namespace dhtalk;

namespace {

// The Ed25519 key of a given seed and public key, as generate_fast_key() makes them.
std::shared_ptr<dht::crypto::PrivateKey> key_of(const std::string& seed, const std::string& pub) {
    gnutls_x509_privkey_t raw = nullptr;
    REQUIRE(gnutls_x509_privkey_init(&raw) == 0);
    const gnutls_datum_t x{reinterpret_cast<unsigned char*>(const_cast<char*>(pub.data())), static_cast<unsigned>(pub.size())};
    const gnutls_datum_t k{reinterpret_cast<unsigned char*>(const_cast<char*>(seed.data())), static_cast<unsigned>(seed.size())};
    REQUIRE(gnutls_x509_privkey_import_ecc_raw(raw, GNUTLS_ECC_CURVE_ED25519, &x, nullptr, &k) == 0);
    return std::make_shared<dht::crypto::PrivateKey>(raw);
}

}  // namespace

TEST_CASE("fast seal: an Ed25519 key's X25519 form is the published one") {
    // The key pair of libsodium's ed25519_convert test, whose X25519 public
    // key is given there (and agrees with RFC 7748's map done by hand).
    const std::string seed = crypto::from_hex("421151a459faeade3d247115f94aedae42318124095afabe4d1451a559faedee").value();
    const std::string pub = crypto::from_hex("b5076a8474a832daee4dd5b4040983b6623b5f344aca57d4d6ee4baf3f259e6e").value();
    auto u = crypto::x25519_public_of(pub);
    REQUIRE(u);
    CHECK(crypto::to_hex(*u) == "f1814f0e8ff1043d8a44d25babff3cedcae6c22c3edaa48f857ae70de2baae50");
    // The holder of that seed opens what was sealed to that public key.
    auto key = key_of(seed, pub);
    CHECK(crypto::fast_public_key(*key).value() == pub);
    auto sealed = crypto::seal_to_fast_key(pub, "test", "+15551234567");
    REQUIRE(sealed);
    CHECK(crypto::open_with_fast_key(*key, "test", *sealed).value() == "+15551234567");

    // Not a point: the wrong size, y = 1 (the neutral point, no inverse), y past the field.
    CHECK_FALSE(crypto::x25519_public_of(pub.substr(1)));
    std::string one(32, '\0');
    one[0] = 1;
    CHECK_FALSE(crypto::x25519_public_of(one));
    CHECK_FALSE(crypto::seal_to_fast_key(one, "test", "x"));
    CHECK_FALSE(crypto::x25519_public_of(std::string(31, '\xff') + '\x7f'));
}

TEST_CASE("fast seal: only the key's holder opens it, for the same use, unaltered") {
    auto key = crypto::generate_fast_key().value();
    auto other = crypto::generate_fast_key().value();
    const std::string pub = crypto::fast_public_key(*key).value();
    const std::string secret = "123456";
    auto sealed = crypto::seal_to_fast_key(pub, "registrar", secret).value();
    CHECK(sealed.size() == 1 + 32 + secret.size() + 16);
    CHECK(crypto::open_with_fast_key(*key, "registrar", sealed).value() == secret);
    // A fresh ephemeral key each time: the same secret never seals the same.
    CHECK(crypto::seal_to_fast_key(pub, "registrar", secret).value() != sealed);

    auto refused = [&](const dht::crypto::PrivateKey& k, std::string_view purpose, const std::string& bytes) {
        auto opened = crypto::open_with_fast_key(k, purpose, bytes);
        CHECK_FALSE(opened);
        if (!opened) CHECK(opened.status().code() == Code::kCorruption);
    };
    refused(*other, "registrar", sealed);
    refused(*key, "another use", sealed);
    for (size_t i = 0; i < sealed.size(); i += 7) {  // the version, the ephemeral key, ciphertext and tag
        std::string altered = sealed;
        altered[i] = static_cast<char>(altered[i] ^ 0x01);
        refused(*key, "registrar", altered);
    }
    refused(*key, "registrar", sealed.substr(0, 1 + 32 + 15));
    refused(*key, "registrar", "");
    // An ephemeral key of small order (here 0) leaves no secret.
    std::string zero_point = sealed;
    std::fill(zero_point.begin() + 1, zero_point.begin() + 33, '\0');
    refused(*key, "registrar", zero_point);
    // An RSA key cannot open it.
    auto rsa = dht::crypto::PrivateKey::generate(2048);
    CHECK_FALSE(crypto::open_with_fast_key(rsa, "registrar", sealed));
}
