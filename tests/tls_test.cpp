// TLS sessions (crypto/tls.h): over sockets whose peer has gone, and with
// peers whose keys are refused.
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <thread>

#include "crypto/fast_key.h"
#include "crypto/node_identity.h"
#include "crypto/signing.h"
#include "crypto/tls.h"
#include "crypto/user_certificate.h"
#include "tests/hostile_keys.h"
#include "testing/test_util.h"

#include "tests/doctest.h"

using namespace dhtalk;

namespace {

// A server session with `server` and a client with `client` handshake over
// a socket pair: the server's session (its peer as it read it) and the
// server's result.
std::pair<std::unique_ptr<crypto::TlsSession>, int> handshake_pair(const crypto::TlsCredentials& server_credentials,
                                                                   const crypto::TlsCredentials& client_credentials) {
    int fds[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
    auto server = crypto::TlsSession::open(crypto::TlsSession::Role::kServer, fds[0], server_credentials).value();
    auto client = crypto::TlsSession::open(crypto::TlsSession::Role::kClient, fds[1], client_credentials).value();
    // Blocking sockets: each side's handshake returns when it is done or failed.
    auto handshake = [](gnutls_session_t s) {
        int rc;
        do rc = gnutls_handshake(s);
        while (rc < 0 && !gnutls_error_is_fatal(rc));
        return rc;
    };
    std::thread other([&] {
        handshake(client->get());
        ::shutdown(fds[1], SHUT_RDWR);  // the server must not wait for more
    });
    const int server_rc = handshake(server->get());
    ::shutdown(fds[0], SHUT_RDWR);
    other.join();
    client.reset();
    ::close(fds[1]);
    ::close(fds[0]);  // the server's session outlives its socket: only its certificate is read
    return {std::move(server), server_rc};
}

}  // namespace

TEST_CASE("a TLS session whose peer hung up fails with an error, not SIGPIPE") {
    // The default action of SIGPIPE ends the process: this test dies if the
    // library lets a send raise it.
    std::signal(SIGPIPE, SIG_DFL);
    int fds[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
    ::close(fds[1]);  // the node hangs up before the handshake
    auto credentials = crypto::TlsCredentials::anonymous();
    REQUIRE(credentials);
    auto session = crypto::TlsSession::open(crypto::TlsSession::Role::kClient, fds[0], **credentials);
    REQUIRE(session);
    const int rc = gnutls_handshake((*session)->get());  // its first step sends the ClientHello
    CHECK(rc < 0);
    CHECK(gnutls_error_is_fatal(rc));
    CHECK(gnutls_bye((*session)->get(), GNUTLS_SHUT_WR) < 0);  // what a client's destructor does
    ::close(fds[0]);
}

TEST_CASE("a TLS peer whose key has an absurd RSA exponent is refused in the handshake") {
    test::TempDir dir;
    const auto node = crypto::load_or_create_identity(dir / "node", 2048).value();
    auto key = std::make_shared<dht::crypto::PrivateKey>(dht::crypto::PrivateKey(std::string_view(test::kHugeExponentKeyPem)));
    auto hostile_cert = std::make_shared<dht::crypto::Certificate>(dht::crypto::Certificate::generate(*key, "hostile", {}, false));
    const auto now = std::chrono::system_clock::now();
    auto node_cert = crypto::make_tls_certificate(node, now, std::chrono::hours(1)).value();
    auto server_credentials = crypto::TlsCredentials::with_certificate(*node_cert, *node.fast_key).value();
    auto client_credentials = crypto::TlsCredentials::with_certificate(*hostile_cert, *key).value();

    auto [server, server_rc] = handshake_pair(*server_credentials, *client_credentials);
    CHECK(server_rc == GNUTLS_E_CERTIFICATE_ERROR);
    CHECK(server->peer_certificate() != nullptr);  // it was received, and refused
}

TEST_CASE("a peer's certificate is read as the DER it sent, never as a PEM text inside it") {
    test::TempDir dir;
    const auto node = crypto::load_or_create_identity(dir / "node", 2048).value();
    const auto now = std::chrono::system_clock::now();
    // The victim: a certificate anyone can copy (it is in every record its
    // user publishes); here the node's own TLS certificate stands in.
    auto victim = crypto::make_tls_certificate(node, now, std::chrono::hours(1)).value();
    const std::string victim_pem = victim->toString(false);
    // The attacker's certificate, for its own key, carries the victim's as
    // text in an extension no one reads.
    auto attacker_key = crypto::generate_fast_key().value();
    gnutls_x509_crt_t crt = nullptr;
    REQUIRE(gnutls_x509_crt_init(&crt) == 0);
    REQUIRE(gnutls_x509_crt_set_key(crt, attacker_key->x509_key) == 0);
    const std::string cn = "attacker";
    REQUIRE(gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, cn.data(), static_cast<unsigned>(cn.size())) == 0);
    REQUIRE(gnutls_x509_crt_set_version(crt, 3) == 0);
    const unsigned char serial[1] = {1};
    REQUIRE(gnutls_x509_crt_set_serial(crt, serial, 1) == 0);
    const time_t t = std::chrono::system_clock::to_time_t(now);
    REQUIRE(gnutls_x509_crt_set_activation_time(crt, t - 60) == 0);
    REQUIRE(gnutls_x509_crt_set_expiration_time(crt, t + 3600) == 0);
    std::string octets{'\x04', '\x82', static_cast<char>(victim_pem.size() >> 8), static_cast<char>(victim_pem.size() & 0xff)};
    octets += victim_pem;  // an OCTET STRING holding the PEM text
    REQUIRE(gnutls_x509_crt_set_extension_by_oid(crt, "1.3.6.1.4.1.32473.1", octets.data(), octets.size(), 0) == 0);
    REQUIRE(gnutls_x509_crt_privkey_sign(crt, crt, attacker_key->key, GNUTLS_DIG_SHA512, 0) == 0);
    gnutls_datum_t exported{nullptr, 0};
    REQUIRE(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &exported) == 0);
    gnutls_x509_crt_deinit(crt);
    const std::string der(reinterpret_cast<const char*>(exported.data), exported.size);
    gnutls_free(exported.data);
    // OpenDHT's reading of those bytes finds the victim: the attack is real.
    dht::crypto::Certificate as_text(reinterpret_cast<const uint8_t*>(der.data()), der.size());
    REQUIRE(as_text.getPublicKey().getId() == victim->getPublicKey().getId());

    gnutls_x509_crt_t own = nullptr;
    REQUIRE(gnutls_x509_crt_init(&own) == 0);
    const gnutls_datum_t in{reinterpret_cast<unsigned char*>(const_cast<char*>(der.data())), static_cast<unsigned>(der.size())};
    REQUIRE(gnutls_x509_crt_import(own, &in, GNUTLS_X509_FMT_DER) == 0);
    dht::crypto::Certificate attacker_cert(own);
    auto client_credentials = crypto::TlsCredentials::with_certificate(attacker_cert, *attacker_key).value();
    auto server_credentials = crypto::TlsCredentials::with_certificate(*victim, *node.fast_key).value();

    auto [server, server_rc] = handshake_pair(*server_credentials, *client_credentials);
    REQUIRE(server_rc == 0);
    auto seen = server->peer_certificate();
    REQUIRE(seen != nullptr);
    CHECK(seen->getPublicKey().getId() == attacker_cert.getPublicKey().getId());
    CHECK(seen->getPublicKey().getId() != victim->getPublicKey().getId());
}

TEST_CASE("a certificate's text is one PEM certificate and nothing before it") {
    test::TempDir dir;
    const auto node = crypto::load_or_create_identity(dir / "node", 2048).value();
    const std::string pem = crypto::make_tls_certificate(node, std::chrono::system_clock::now(), std::chrono::hours(1))
                                .value()
                                ->toString(false);
    CHECK(crypto::parse_certificate(pem));
    CHECK_FALSE(crypto::parse_certificate("junk\n" + pem));
    CHECK_FALSE(crypto::parse_certificate(pem + pem));
}
