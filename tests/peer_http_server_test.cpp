// The peer service's HTTP server on loopback: requests are served, framing
// and sizes are bounded before any handler runs, a sender that trickles its
// request is dropped at its deadline without holding up anyone else, and one
// address holds only a few connections.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <httplib.h>

#include "net/peer_http_server.h"
#include "testing/test_util.h"

#include "tests/doctest.h"

using namespace dhtalk;
using namespace std::chrono_literals;

namespace {

// Echoes what it was asked.
HttpResponse echo(const HttpRequest& r) {
    return {200, "text/plain",
            r.method + " " + r.path + " from=" + r.param("from") + " origin=" + r.header("X-Dhtalk-Origin") +
                " body=" + std::to_string(r.body.size())};
}

std::unique_ptr<PeerHttpServer> serve(PeerHttpLimits limits = {}) {
    auto s = PeerHttpServer::start("127.0.0.1", 0, limits, echo);
    REQUIRE_MESSAGE(s.is_ok(), s.status().to_string());
    return std::move(s).value();
}

// A raw TCP connection to the server.
struct Raw {
    int fd = -1;
    explicit Raw(uint16_t port) {
        fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_port = htons(port);
        to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0);
    }
    ~Raw() { ::close(fd); }
    void send(const std::string& s) const { REQUIRE(::send(fd, s.data(), s.size(), MSG_NOSIGNAL) == ssize_t(s.size())); }
    // Everything the server sends until it closes (or `timeout`); nullopt if it did not close.
    std::optional<std::string> until_closed(std::chrono::milliseconds timeout = 10s) const {
        std::string got;
        const auto end = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < end) {
            pollfd p{fd, POLLIN, 0};
            if (::poll(&p, 1, 50) <= 0) continue;
            char buf[4096];
            const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
            if (n <= 0) return got;
            got.append(buf, static_cast<size_t>(n));
        }
        return std::nullopt;
    }
    // Whether the server has closed it by now (without waiting).
    bool closed() const {
        char c;
        const ssize_t n = ::recv(fd, &c, 1, MSG_DONTWAIT | MSG_PEEK);
        return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
    }
};

std::string status_line(const std::optional<std::string>& answer) {
    REQUIRE(answer.has_value());
    return answer->substr(0, answer->find("\r\n"));
}

}  // namespace

TEST_CASE("the peer HTTP server serves requests and refuses bad framing before any handler runs") {
    auto server = serve();
    httplib::Client c("127.0.0.1", server->port());
    auto res = c.Post("/v1/ballot?from=7", httplib::Headers{{"X-Dhtalk-Origin", "198.51.100.1"}}, std::string(1000, 'b'),
                      "application/msgpack");
    REQUIRE(res);
    CHECK(res->status == 200);
    CHECK(res->body == "POST /v1/ballot from=7 origin=198.51.100.1 body=1000");
    res = c.Get("/v1/roster?from=3");
    REQUIRE(res);
    CHECK(res->body == "GET /v1/roster from=3 origin= body=0");

    auto refused = [&](const std::string& request) {
        Raw r(server->port());
        r.send(request);
        return status_line(r.until_closed());
    };
    CHECK(refused("NOT HTTP AT ALL\r\n\r\n") == "HTTP/1.1 400 Bad Request");
    CHECK(refused("GET relative HTTP/1.1\r\n\r\n") == "HTTP/1.1 400 Bad Request");
    CHECK(refused("GET / HTTP/1.1\r\nno colon here\r\n\r\n") == "HTTP/1.1 400 Bad Request");
    CHECK(refused("GET / HTTP/1.1\r\nX-A: one\rtwo\r\n\r\n") == "HTTP/1.1 400 Bad Request");
    CHECK(refused(std::string("GET /a\0b HTTP/1.1\r\n\r\n", 21)) == "HTTP/1.1 400 Bad Request");
    CHECK(refused("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nabcdef") == "HTTP/1.1 400 Bad Request");
    CHECK(refused("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n") == "HTTP/1.1 400 Bad Request");
    CHECK(refused("POST / HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n") == "HTTP/1.1 413 Content Too Large");
    CHECK(refused("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n") == "HTTP/1.1 501 Not Implemented");
    CHECK(refused("GET / HTTP/1.1\r\nX-Long: " + std::string(20000, 'x') + "\r\n\r\n") ==
          "HTTP/1.1 431 Request Header Fields Too Large");
    CHECK(refused("GET /" + std::string(20000, 'p')) == "HTTP/1.1 431 Request Header Fields Too Large");
}

TEST_CASE("large answers go out whole, and a refusal reaches a caller still sending its body") {
    PeerHttpLimits limits;
    limits.max_body_bytes = 1024;
    auto s = PeerHttpServer::start("127.0.0.1", 0, limits, [](const HttpRequest&) {
        return HttpResponse{200, "application/octet-stream", std::string(4 << 20, 'r')};
    });
    REQUIRE(s.is_ok());
    auto& server = *s;
    httplib::Client c("127.0.0.1", server->port());
    auto res = c.Get("/v1/roster");
    REQUIRE(res);
    CHECK(res->body.size() == size_t(4 << 20));
    // The answer comes after the head; the server drains the rest, so the
    // caller reads a 413 rather than a reset.
    res = c.Post("/v1/epoch", std::string(1 << 20, 'e'), "application/msgpack");
    REQUIRE(res);
    CHECK(res->status == 413);
}

TEST_CASE("a sender that trickles its request is dropped at its deadline, and others are served meanwhile") {
    PeerHttpLimits limits;
    limits.request_deadline = 500ms;
    limits.handler_threads = 1;
    limits.max_connections_per_address = 64;
    auto server = serve(limits);
    std::vector<std::unique_ptr<Raw>> slow;
    for (int i = 0; i < 16; ++i) {
        slow.push_back(std::make_unique<Raw>(server->port()));
        slow.back()->send("POST /v1/ballot HTTP/1.1\r\nContent-Length: 100\r\n\r\nonly part of the bo");
    }
    // Sixteen half-sent requests hold no thread: a whole one is answered.
    httplib::Client c("127.0.0.1", server->port());
    auto res = c.Get("/v1/roster");
    REQUIRE(res);
    CHECK(res->status == 200);
    // Each slow one is closed without an answer once its deadline passes.
    for (auto& r : slow) CHECK(r->until_closed() == std::string());
    CHECK(server->dropped() >= 16);
}

TEST_CASE("one address holds only a few connections to the peer service") {
    PeerHttpLimits limits;
    limits.max_connections_per_address = 2;
    limits.request_deadline = 60s;
    auto server = serve(limits);
    Raw first(server->port()), second(server->port());
    first.send("GET /v1/roster HTTP/1.1\r\n");  // heads never finished
    second.send("GET /v1/roster HTTP/1.1\r\n");
    Raw third(server->port());
    CHECK(status_line(third.until_closed()) == "HTTP/1.1 503 Service Unavailable");  // told it was not heard
    CHECK_FALSE(first.closed());
    CHECK_FALSE(second.closed());
    CHECK(server->dropped() == 1);
}
