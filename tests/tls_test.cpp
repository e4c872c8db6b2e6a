// TLS sessions (crypto/tls.h) over sockets whose peer has gone.
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>

#include "crypto/tls.h"

#include <doctest/doctest.h>

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
