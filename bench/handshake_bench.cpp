// New TLS sessions per second on a node's client front end, full and
// resumed, anonymous and logged in, beside bare TLS 1.3 handshakes in this
// process with the same kind of certificate (the node's Ed25519 fast key),
// and with the RSA-3072 key the front end presented before.
//   1. bare: THREADS server threads accept and handshake on loopback (each
//      one connection at a time, blocking), THREADS client threads connect,
//      handshake and hang up for SECONDS: what GnuTLS does on this machine
//      with nothing around it; then the same resuming with a ticket of the
//      server's, the baseline for resumed sessions.
//   2. the front end of one dhtalk-node process (built beside this
//      program), the same clients through client::ClientConnection.
// Usage: handshake_bench [SECONDS] [THREADS] (default 3 4).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <functional>
#include <thread>

#include "client/client.h"
#include "common/log.h"
#include "crypto/fast_key.h"
#include "crypto/signing.h"
#include "crypto/user_certificate.h"
#include "testing/bench_util.h"
#include "testing/loopback_network.h"

using namespace dhtalk;
using namespace std::chrono;

namespace {

// Runs `attempt` on `threads` threads for `seconds`; successes per second.
double rate(int threads, double seconds, const std::function<bool()>& attempt) {
    std::atomic<uint64_t> ok{0}, failed{0};
    const double t0 = bench::wall_seconds();
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t)
        workers.emplace_back([&] {
            while (bench::wall_seconds() - t0 < seconds) (attempt() ? ok : failed)++;
        });
    for (auto& w : workers) w.join();
    if (failed) std::fprintf(stderr, "  (%llu attempts failed)\n", static_cast<unsigned long long>(failed.load()));
    return static_cast<double>(ok) / (bench::wall_seconds() - t0);
}

bool handshake(gnutls_session_t s) {
    int rc;
    do rc = gnutls_handshake(s);
    while (rc < 0 && !gnutls_error_is_fatal(rc));
    return rc == 0;
}

// A bare TLS 1.3 server on loopback: `threads` threads, each one blocking
// handshake at a time.
class BareServer {
public:
    BareServer(std::shared_ptr<crypto::TlsCredentials> credentials, int threads) : credentials_(std::move(credentials)) {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        const int one = 1;
        setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd_, 512) != 0) std::exit(1);
        socklen_t len = sizeof a;
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
        port_ = ntohs(a.sin_port);
        for (int t = 0; t < threads; ++t) threads_.emplace_back([this] {
            for (;;) {
                const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
                if (c < 0 || stopping_) {
                    if (c >= 0) ::close(c);
                    return;
                }
                {
                    auto s = crypto::TlsSession::open(crypto::TlsSession::Role::kServer, c, *credentials_);
                    if (s) handshake((*s)->get());
                }  // the session ends before its socket
                ::close(c);
            }
        });
    }
    ~BareServer() {
        stopping_ = true;
        ::shutdown(fd_, SHUT_RDWR);
        for (auto& t : threads_) t.join();
        ::close(fd_);
    }
    // One client: connect, handshake (offering to resume the session of
    // `ticket` if one is given; only a resumed one counts then), hang up.
    // With `new_ticket`, it first reads the ticket the server gives.
    bool connect_once(const crypto::TlsCredentials& client, const std::string& ticket = {},
                      std::string* new_ticket = nullptr) const {
        const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons(port_);
        const int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
        if (ok) {
            auto s = crypto::TlsSession::open(crypto::TlsSession::Role::kClient, fd, client, ticket);
            ok = s && handshake((*s)->get()) && (ticket.empty() || (*s)->resumed());
            if (ok && new_ticket) {
                char byte;  // the ticket comes after the handshake; the server then hangs up
                (void)gnutls_record_recv((*s)->get(), &byte, 1);
                *new_ticket = (*s)->ticket();
            }
        }  // the session ends before its socket
        ::close(fd);
        return ok;
    }

private:
    std::shared_ptr<crypto::TlsCredentials> credentials_;
    int fd_ = -1;
    uint16_t port_ = 0;
    std::atomic<bool> stopping_{false};
    std::vector<std::thread> threads_;
};

double bare_rate(const crypto::NodeIdentity& id, bool fast, int threads, double seconds) {
    crypto::NodeIdentity presented = id;
    if (!fast) presented.fast_key = id.key;  // the certificate the front end presented before
    auto cert = crypto::make_tls_certificate(presented, system_clock::now(), hours(1)).value();
    BareServer server(crypto::TlsCredentials::with_certificate(*cert, *presented.fast_key).value(), threads);
    auto anonymous = crypto::TlsCredentials::anonymous().value();
    return rate(threads, seconds, [&] { return server.connect_once(*anonymous); });
}

// Resumed handshakes: the server gives tickets, each client offers the one
// it got from a first full handshake.
double bare_resumed_rate(const crypto::NodeIdentity& id, int threads, double seconds) {
    auto cert = crypto::make_tls_certificate(id, system_clock::now(), hours(1)).value();
    auto credentials = crypto::TlsCredentials::with_certificate(*cert, *id.fast_key).value();
    if (!credentials->enable_session_tickets()) std::exit(1);
    BareServer server(credentials, threads);
    auto client = crypto::TlsCredentials::anonymous().value();
    std::string ticket;
    if (!server.connect_once(*client, {}, &ticket) || ticket.empty()) {
        std::fprintf(stderr, "the bare server gave no ticket\n");
        return 0;
    }
    return rate(threads, seconds, [&] { return server.connect_once(*client, ticket); });
}

}  // namespace

int main(int argc, char** argv) {
    const double seconds_run = argc > 1 ? std::atof(argv[1]) : 3;
    const int threads = argc > 2 ? std::atoi(argv[2]) : 4;
    log::set_level(log::Level::kWarning);
    test::TempDir dir;

    // 1. Bare handshakes with a node identity's two kinds of certificate.
    const auto id = crypto::load_or_create_identity(dir / "bare", crypto::kNodeKeyBits).value();
    const double bare_fast = bare_rate(id, true, threads, seconds_run);
    const double bare_rsa = bare_rate(id, false, threads, seconds_run);
    const double bare_resumed = bare_resumed_rate(id, threads, seconds_run);

    // 2. The front end of one node.
    bench::LoopbackNetwork network(dir.path(), 1,
                                   {"--max-sessions-per-address", "5000", "--client-rate", "10000000", "--network",
                                    "bench"});
    const auto& node = network.nodes()[0];
    network.register_user(0, node);
    auto profile = client::Profile::load(dir / "user0").value();
    auto user_cert = crypto::parse_certificate(profile.certificate).value();

    auto session_rate = [&](std::shared_ptr<crypto::TlsCredentials> creds, bool resume) {
        if (resume) {  // one session to get a ticket
            auto c = client::ClientConnection::open(node.client(), creds, seconds(10)).value();
            (void)c->call("hello", {}, seconds(10));
        }
        std::atomic<uint64_t> resumed{0};
        const double r = rate(threads, seconds_run, [&]() -> bool {
            auto c = client::ClientConnection::open(node.client(), resume ? creds : crypto::TlsCredentials::anonymous().value(),
                                                    seconds(10));
            if (c && (*c)->resumed()) resumed++;
            return c.is_ok();
        });
        if (resume && resumed == 0) std::fprintf(stderr, "  (no session was resumed)\n");
        return r;
    };
    auto login = [&] { return crypto::TlsCredentials::with_certificate(*user_cert, *profile.key).value(); };
    const double full_anonymous = session_rate(crypto::TlsCredentials::anonymous().value(), false);
    const double resumed_anonymous = session_rate(crypto::TlsCredentials::anonymous().value(), true);
    // A full run with login: credentials per attempt, so that none resumes.
    const double full_login = rate(threads, seconds_run, [&]() -> bool {
        return client::ClientConnection::open(node.client(), login(), seconds(10)).is_ok();
    });
    const double resumed_login = session_rate(login(), true);

    std::printf("\nnew TLS 1.3 sessions per second, %d client threads, %.0f s each, client and server on this machine\n\n",
                threads, seconds_run);
    std::printf("%-52s %8.0f /s\n", "bare handshakes, Ed25519 certificate (baseline)", bare_fast);
    std::printf("%-52s %8.0f /s\n", "bare handshakes, RSA-3072 certificate (before)", bare_rsa);
    std::printf("%-52s %8.0f /s\n", "bare handshakes, resumed (baseline for resumed)", bare_resumed);
    std::printf("%-52s %8.0f /s | ratio to bare Ed25519 %.2f\n", "front end: full, anonymous", full_anonymous,
                full_anonymous / bare_fast);
    std::printf("%-52s %8.0f /s | ratio to bare resumed %.2f\n", "front end: resumed, anonymous", resumed_anonymous,
                resumed_anonymous / bare_resumed);
    std::printf("%-52s %8.0f /s | ratio %.2f\n", "front end: full, logged in (Ed25519 user key)", full_login,
                full_login / bare_fast);
    std::printf("%-52s %8.0f /s | ratio to bare resumed %.2f\n", "front end: resumed, logged in", resumed_login,
                resumed_login / bare_resumed);
    return 0;
}
