// TLS sessions (crypto/tls.h): over sockets whose peer has gone, and with
// peers whose keys are refused.
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <thread>

#include "crypto/node_identity.h"
#include "crypto/tls.h"
#include "crypto/user_certificate.h"
#include "tests/hostile_keys.h"
#include "testing/test_util.h"

#include "tests/doctest.h"

using namespace dhtalk;

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

    int fds[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
    auto server = crypto::TlsSession::open(crypto::TlsSession::Role::kServer, fds[0], *server_credentials).value();
    auto client = crypto::TlsSession::open(crypto::TlsSession::Role::kClient, fds[1], *client_credentials).value();
    // Blocking sockets: each side's handshake returns when it is done or failed.
    auto handshake = [](gnutls_session_t s) {
        int rc;
        do rc = gnutls_handshake(s);
        while (rc < 0 && !gnutls_error_is_fatal(rc));
        return rc;
    };
    int client_rc = 0;
    std::thread other([&] {
        client_rc = handshake(client->get());
        ::shutdown(fds[1], SHUT_RDWR);  // the server must not wait for more
    });
    const int server_rc = handshake(server->get());
    ::shutdown(fds[0], SHUT_RDWR);
    other.join();
    CHECK(server_rc == GNUTLS_E_CERTIFICATE_ERROR);
    CHECK(server->peer_certificate() != nullptr);  // it was received, and refused
    ::close(fds[0]);
    ::close(fds[1]);
}
