// Keys from outside (crypto/signing.h, check_public_key): a certificate or a
// certificate request whose RSA key has an absurd public exponent is refused
// before any signature of it is checked.
#include <opendht.h>

#include "crypto/signing.h"
#include "crypto/user_certificate.h"
#include "crypto/user_id.h"
#include "crypto/node_identity.h"
#include "tests/hostile_keys.h"
#include "testing/test_util.h"

#include "tests/doctest.h"

using namespace dhtalk;

namespace {

crypto::NodeIdentity huge_exponent_identity() {
    auto key = std::make_shared<dht::crypto::PrivateKey>(dht::crypto::PrivateKey(std::string_view(test::kHugeExponentKeyPem)));
    auto cert = std::make_shared<dht::crypto::Certificate>(dht::crypto::Certificate::generate(*key, "hostile", {}, true));
    return crypto::NodeIdentity{key, cert, nullptr, {}};  // no fast key: it makes requests only
}

}  // namespace

TEST_CASE("certificates with an absurd RSA exponent are refused when parsed") {
    const auto hostile = huge_exponent_identity();
    CHECK(crypto::check_public_key(*hostile.certificate).code() == Code::kInvalidArgument);
    auto parsed = crypto::parse_certificate(hostile.certificate->toString(false));
    REQUIRE_FALSE(parsed);
    CHECK(parsed.status().message().find("exponent") != std::string::npos);

    test::TempDir dir;
    const auto honest = crypto::load_or_create_identity(dir / "n", 2048).value();
    CHECK(crypto::check_public_key(*honest.certificate));
    CHECK(crypto::parse_certificate(honest.certificate->toString(false)));
}

TEST_CASE("a certificate request for a key with an absurd RSA exponent gets no certificate") {
    test::TempDir dir;
    const auto issuer = crypto::load_or_create_identity(dir / "n", 2048).value();
    const auto hostile = huge_exponent_identity();
    const std::string user = crypto::derive_user_id("kontalk-sha1", "+15555245554").value();
    crypto::IssueRequest r;
    r.csr_pem = crypto::make_certificate_request(*hostile.key, user).value();
    r.user_id = user;
    r.network_id = 0x1234abcd;
    r.now = std::chrono::system_clock::now();
    auto cert = crypto::issue_user_certificate(r, issuer);
    REQUIRE_FALSE(cert);
    CHECK(cert.status().message().find("exponent") != std::string::npos);
}

TEST_CASE("user keys are Ed25519: a request or a certificate for an RSA key is an older dhtalk's, refused") {
    test::TempDir dir;
    const auto issuer = crypto::load_or_create_identity(dir / "n", 2048).value();
    const std::string user = crypto::derive_user_id("kontalk-sha1", "+15555245554").value();
    crypto::IssueRequest r;
    r.user_id = user;
    r.network_id = 0x1234abcd;
    r.now = std::chrono::system_clock::now();

    r.csr_pem = crypto::make_certificate_request(*issuer.key, user).value();  // an honest RSA key
    auto refused = crypto::issue_user_certificate(r, issuer);
    REQUIRE_FALSE(refused);
    CHECK(refused.status().message().find("must be Ed25519") != std::string::npos);

    auto key = crypto::generate_user_key().value();
    r.csr_pem = crypto::make_certificate_request(*key, user).value();
    auto issued = crypto::parse_certificate(crypto::issue_user_certificate(r, issuer).value()).value();
    auto info = crypto::inspect_user_certificate(*issued);
    REQUIRE(info);
    CHECK(info->user_id == user);
    // Signed with the node's fast key, not its RSA identity.
    CHECK(crypto::issued_with_fast_key(*issued, issuer.fast_public));
    CHECK_FALSE(crypto::signed_by(*issued, *issuer.certificate));

    // A certificate an issuer made for an RSA user key, as an older dhtalk did.
    auto rsa_user = dht::crypto::Certificate::generate(*issuer.key, user, {}, false);
    auto old = crypto::inspect_user_certificate(rsa_user);
    REQUIRE_FALSE(old);
    CHECK(old.status().message().find("register again") != std::string::npos);
}
