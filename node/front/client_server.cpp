#include "node/front/client_server.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <unordered_map>

#include "common/address_bucket.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/rate_limiter.h"
#include "common/token_bucket.h"

namespace dhtalk {

using namespace std::chrono;

namespace {

constexpr size_t kIoChunk = 16 * 1024;

std::string ip_of(const sockaddr_storage& ss) {
    char buf[INET6_ADDRSTRLEN] = "?";
    if (ss.ss_family == AF_INET) {
        inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(ss).sin_addr, buf, sizeof buf);
    } else if (ss.ss_family == AF_INET6) {
        const auto& a6 = reinterpret_cast<const sockaddr_in6&>(ss).sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(&a6)) inet_ntop(AF_INET, &a6.s6_addr[12], buf, sizeof buf);
        else inet_ntop(AF_INET6, &a6, buf, sizeof buf);
    }
    return buf;
}

Result<int> listen_on(const std::string& bind, uint16_t port) {
    const std::string host = bind.empty() ? "::" : bind;
    addrinfo hints{};
    hints.ai_flags = AI_NUMERICHOST | AI_PASSIVE;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res) != 0 || !res)
        return Status::invalid("--client-bind '" + bind + "' is not a numeric IP address");
    std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> guard(res, freeaddrinfo);
    const int fd = ::socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        if (bind.empty()) return listen_on("0.0.0.0", port);  // no IPv6 on this machine
        return Status::io_error(std::string("cannot open the client socket: ") + std::strerror(errno));
    }
    const int one = 1, zero = 0;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (res->ai_family == AF_INET6 && bind.empty()) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    if (::bind(fd, res->ai_addr, res->ai_addrlen) != 0 || ::listen(fd, 512) != 0) {
        const int err = errno;
        ::close(fd);
        if (bind.empty() && err == EAFNOSUPPORT) return listen_on("0.0.0.0", port);
        if (err == EADDRINUSE) return Status::busy("client port " + std::to_string(port) + " is already in use");
        return Status::io_error("cannot listen for clients on " + host + ":" + std::to_string(port) + ": " +
                                std::strerror(err));
    }
    return fd;
}

uint16_t port_of(int fd) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
    return ss.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6&>(ss).sin6_port)
                                    : ntohs(reinterpret_cast<sockaddr_in&>(ss).sin_port);
}

bool retry(int rc) { return rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED; }

}  // namespace

// Replies posted from any thread, picked up by the I/O thread. Shared with
// the reply callbacks, so a late reply after stop() is dropped harmlessly.
struct Letter {
    uint64_t session;
    ClientFrame frame;
    bool push;  // not a reply: no request of the session's is waiting for it
};

struct Mailbox {
    static constexpr size_t kMaxLetters = 100000;  // replies and pushes waiting for the I/O thread
    std::mutex mutex;
    std::vector<Letter> letters;  // guarded by mutex
    int wake_fd = -1;             // guarded by mutex
    void post(uint64_t session, ClientFrame frame, bool push = false) {
        std::lock_guard lock(mutex);
        if (wake_fd < 0 || (push && letters.size() >= kMaxLetters)) return;
        letters.push_back({session, std::move(frame), push});
        const uint64_t one = 1;
        [[maybe_unused]] ssize_t n = ::write(wake_fd, &one, sizeof one);  // a full counter still wakes the loop
    }
};

struct Connection {
    enum class State { kHandshake, kOpen };
    int fd = -1;
    std::unique_ptr<crypto::TlsSession> tls;
    State state = State::kHandshake;
    SteadyTime deadline;
    FrameReader reader;
    std::deque<std::string> out;
    size_t out_offset = 0;   // into out.front()
    size_t out_bytes = 0;
    size_t retry_chunk = 0;  // GnuTLS wants the same chunk again after EAGAIN
    TokenBucket requests;  // this session's requests
    size_t in_flight = 0;
    bool close_after_flush = false;
    bool dead = false;
    bool refused = false;  // its login was refused: the handler never saw it
    ClientSession session;
    ~Connection() {
        tls.reset();
        if (fd >= 0) ::close(fd);
    }
};

struct ClientServer::Impl {
    ClientServerConfig config;
    std::shared_ptr<crypto::TlsCredentials> credentials;
    ClientHandler& handler;
    const Clock& clock;
    RateLimiter address_limiter;
    RateLimiter accept_limiter;  // new connections per address: each handshake costs an RSA signature
    std::shared_ptr<Mailbox> mailbox = std::make_shared<Mailbox>();
    int listen_fd = -1;
    int wake_fd = -1;
    std::atomic<bool> stopping{false};
    uint64_t next_id = 1;
    std::unordered_map<uint64_t, std::unique_ptr<Connection>> connections;  // I/O thread only
    std::unordered_map<std::string, size_t> per_address;                    // I/O thread only
    SteadyTime next_recheck{};                                               // I/O thread only

    std::atomic<uint64_t> sessions{0}, logged_in{0}, accepted{0}, refused{0}, failed_handshakes{0}, requests{0},
        rate_limited{0}, malformed{0};

    Impl(const ClientServerConfig& c, std::shared_ptr<crypto::TlsCredentials> cred, ClientHandler& h, const Clock& k)
        : config(c),
          credentials(std::move(cred)),
          handler(h),
          clock(k),
          address_limiter(c.address_requests_per_second, 2 * c.address_requests_per_second, 100000, clock),
          accept_limiter(std::max(1.0, c.address_requests_per_second / 10),
                         2.0 * static_cast<double>(std::max<size_t>(c.max_sessions_per_address, 1)), 100000, clock) {}

    ~Impl() {
        connections.clear();
        {
            std::lock_guard lock(mailbox->mutex);
            mailbox->wake_fd = -1;
        }
        if (wake_fd >= 0) ::close(wake_fd);
        if (listen_fd >= 0) ::close(listen_fd);
    }

    void run();
    void accept_all();
    void service(Connection& c);
    void finish_handshake(Connection& c);
    void read_all(Connection& c);
    void on_frame(Connection& c, const ClientFrame& f);
    void send(Connection& c, const ClientFrame& f);
    void flush(Connection& c);
    void refuse(Connection& c, const Status& why);
    void recheck_logins();
    void close(uint64_t id);
    short events_of(const Connection& c) const;
};

Result<std::unique_ptr<ClientServer>> ClientServer::start(const ClientServerConfig& config,
                                                          std::shared_ptr<crypto::TlsCredentials> credentials,
                                                          ClientHandler& handler, const Clock& clock) {
    auto impl = std::make_unique<Impl>(config, std::move(credentials), handler, clock);
    auto fd = listen_on(config.bind, config.port);
    if (!fd) return fd.status();
    impl->listen_fd = *fd;
    impl->wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (impl->wake_fd < 0) return Status::io_error(std::string("eventfd: ") + std::strerror(errno));
    impl->mailbox->wake_fd = impl->wake_fd;
    std::unique_ptr<ClientServer> server(new ClientServer(std::move(impl)));
    server->port_ = port_of(server->impl_->listen_fd);
    server->thread_ = std::thread([s = server->impl_.get()] { s->run(); });
    return server;
}

ClientServer::ClientServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ClientServer::~ClientServer() { stop(); }

void ClientServer::stop() {
    if (!thread_.joinable()) return;
    impl_->stopping = true;
    impl_->mailbox->post(0, {});  // wakes the loop
    thread_.join();
    impl_->connections.clear();
}

void ClientServer::push(uint64_t session, ClientFrame frame) {
    frame.id = 0;
    impl_->mailbox->post(session, std::move(frame), /*push*/ true);
}

ClientServerStats ClientServer::stats() const {
    ClientServerStats s;
    s.sessions = impl_->sessions;
    s.logged_in = impl_->logged_in;
    s.accepted = impl_->accepted;
    s.refused_connections = impl_->refused;
    s.failed_handshakes = impl_->failed_handshakes;
    s.requests = impl_->requests;
    s.rate_limited = impl_->rate_limited;
    s.malformed = impl_->malformed;
    return s;
}

short ClientServer::Impl::events_of(const Connection& c) const {
    if (c.state == Connection::State::kHandshake)
        return gnutls_record_get_direction(c.tls->get()) == 1 ? POLLOUT : POLLIN;
    short ev = c.close_after_flush ? 0 : POLLIN;
    if (!c.out.empty()) ev |= POLLOUT;
    return ev;
}

void ClientServer::Impl::run() {
    std::vector<pollfd> fds;
    std::vector<uint64_t> ids;
    while (!stopping) {
        fds.clear();
        ids.clear();
        fds.push_back({wake_fd, POLLIN, 0});
        fds.push_back({listen_fd, POLLIN, 0});
        auto next_deadline = clock.now() + seconds(1);
        for (auto& [id, c] : connections) {
            fds.push_back({c->fd, events_of(*c), 0});
            ids.push_back(id);
            next_deadline = std::min(next_deadline, c->deadline);
        }
        const auto wait = duration_cast<milliseconds>(next_deadline - clock.now()).count();
        const int n = ::poll(fds.data(), fds.size(), static_cast<int>(std::clamp<int64_t>(wait + 1, 0, 1000)));
        if (n < 0 && errno != EINTR) {
            DHTALK_LOG(kError, "clients", "poll failed: " << std::strerror(errno));
            break;
        }
        if (fds[0].revents) {
            uint64_t count;
            [[maybe_unused]] ssize_t r = ::read(wake_fd, &count, sizeof count);
            std::vector<Letter> letters;
            {
                std::lock_guard lock(mailbox->mutex);
                letters.swap(mailbox->letters);
            }
            for (auto& l : letters) {
                auto it = connections.find(l.session);
                if (it == connections.end()) continue;  // the session has gone
                Connection& c = *it->second;
                if (c.state != Connection::State::kOpen || c.close_after_flush) continue;
                if (!l.push && c.in_flight) c.in_flight--;
                send(c, l.frame);
                flush(c);
            }
        }
        if (fds[1].revents) accept_all();
        for (size_t i = 0; i < ids.size(); ++i) {
            if (!fds[i + 2].revents) continue;
            auto it = connections.find(ids[i]);
            if (it != connections.end() && !it->second->dead) service(*it->second);
        }
        const auto now = clock.now();
        if (now >= next_recheck) {
            next_recheck = now + config.recheck_interval;
            recheck_logins();
        }
        std::vector<uint64_t> gone;
        for (auto& [id, c] : connections) {
            if (!c->dead && now >= c->deadline) {
                if (c->state == Connection::State::kHandshake) failed_handshakes++;
                c->dead = true;
            }
            if (c->dead) gone.push_back(id);
        }
        for (uint64_t id : gone) close(id);
    }
}

void ClientServer::Impl::accept_all() {
    for (;;) {
        sockaddr_storage ss{};
        socklen_t len = sizeof ss;
        const int fd = ::accept4(listen_fd, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE)
                DHTALK_LOG(kWarning, "clients", "out of file descriptors: raise the limit or --max-client-sessions");
            return;
        }
        const std::string address = address_bucket(ip_of(ss));  // IPv6 counts by /64
        if (connections.size() >= config.max_sessions || per_address[address] >= config.max_sessions_per_address ||
            !accept_limiter.allow(address)) {
            refused++;
            if (per_address[address] == 0) per_address.erase(address);
            ::close(fd);
            continue;
        }
        const int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        auto tls = crypto::TlsSession::open(crypto::TlsSession::Role::kServer, fd, *credentials);
        if (!tls) {
            ::close(fd);
            DHTALK_LOG(kError, "clients", tls.status().to_string());
            continue;
        }
        auto c = std::make_unique<Connection>();
        c->fd = fd;
        c->tls = std::move(tls).value();
        c->deadline = clock.now() + config.handshake_timeout;
        c->requests = TokenBucket::full(2 * config.requests_per_second, clock.now());
        c->session.id = next_id++;
        c->session.address = address;
        per_address[address]++;
        accepted++;
        sessions++;
        const uint64_t id = c->session.id;
        connections.emplace(id, std::move(c));
        service(*connections[id]);  // the client's hello may already be here
    }
}

void ClientServer::Impl::close(uint64_t id) {
    auto it = connections.find(id);
    if (it == connections.end()) return;
    Connection& c = *it->second;
    if (c.state == Connection::State::kOpen && !c.refused) handler.closed(c.session);
    if (c.session.user) logged_in--;
    sessions--;
    if (--per_address[c.session.address] == 0) per_address.erase(c.session.address);
    connections.erase(it);
}

void ClientServer::Impl::service(Connection& c) {
    if (c.state == Connection::State::kHandshake) {
        const int rc = gnutls_handshake(c.tls->get());
        if (retry(rc)) return;
        if (rc < 0) {
            failed_handshakes++;
            c.dead = true;
            return;
        }
        finish_handshake(c);
    }
    if (!c.close_after_flush) read_all(c);
    flush(c);
}

void ClientServer::Impl::finish_handshake(Connection& c) {
    c.state = Connection::State::kOpen;
    c.deadline = clock.now() + config.idle_timeout;
    if (auto cert = c.tls->peer_certificate()) {
        auto user = handler.authenticate(*cert);
        if (!user) {
            failed_handshakes++;
            c.refused = true;
            refuse(c, Status(user.status().code(), "login refused: " + user.status().message()));
            return;
        }
        c.session.user = std::move(user).value();
        logged_in++;
    }
    handler.opened(c.session);
}

void ClientServer::Impl::recheck_logins() {
    for (auto& [id, c] : connections) {
        if (c->dead || c->close_after_flush || !c->session.user) continue;
        Status still = handler.recheck(*c->session.user);
        if (still) continue;
        refuse(*c, Status(still.code(), "session ended: " + still.message()));
        flush(*c);
    }
}

void ClientServer::Impl::refuse(Connection& c, const Status& why) {
    send(c, ClientFrame::error_reply(0, why));
    c.close_after_flush = true;
}

void ClientServer::Impl::read_all(Connection& c) {
    char buf[kIoChunk];
    while (!c.dead && !c.close_after_flush) {
        const ssize_t n = gnutls_record_recv(c.tls->get(), buf, sizeof buf);
        if (n == 0) {
            c.dead = true;  // the client closed the session
            return;
        }
        if (n < 0) {
            if (!retry(static_cast<int>(n))) c.dead = true;
            return;
        }
        Status fed = c.reader.feed({buf, static_cast<size_t>(n)});
        if (!fed) {
            malformed++;
            refuse(c, fed);
            return;
        }
        while (auto frame = c.reader.next()) {
            if (!*frame) {
                malformed++;
                refuse(c, frame->status());
                return;
            }
            c.deadline = clock.now() + config.idle_timeout;
            on_frame(c, **frame);
            if (c.dead || c.close_after_flush) return;
        }
    }
}

void ClientServer::Impl::on_frame(Connection& c, const ClientFrame& f) {
    const auto now = clock.now();
    c.requests.refill(now, config.requests_per_second, 2 * config.requests_per_second);
    // The address is charged only for a request its session may make.
    if (c.requests.tokens < 1 || !address_limiter.allow(c.session.address)) {
        rate_limited++;
        send(c, ClientFrame::error_reply(f.id, Status::exhausted("too many requests: slow down")));
        return;
    }
    c.requests.take();
    if (c.in_flight >= config.max_in_flight) {
        rate_limited++;
        send(c, ClientFrame::error_reply(f.id, Status::exhausted("too many requests waiting for their reply")));
        return;
    }
    c.in_flight++;
    requests++;
    const uint64_t session = c.session.id, request = f.id;
    handler.handle(c.session, f, [mailbox = mailbox, session, request](ClientFrame reply) {
        reply.id = request;
        reply.kind = "reply";
        mailbox->post(session, std::move(reply));
    });
}

void ClientServer::Impl::send(Connection& c, const ClientFrame& f) {
    std::string bytes = encode_frame(f);
    if (c.out_bytes + bytes.size() > config.max_queued_bytes) {
        c.dead = true;  // the client does not read its replies
        return;
    }
    c.out_bytes += bytes.size();
    c.out.push_back(std::move(bytes));
}

void ClientServer::Impl::flush(Connection& c) {
    while (!c.dead && c.state == Connection::State::kOpen && !c.out.empty()) {
        const std::string& front = c.out.front();
        const size_t chunk = c.retry_chunk ? c.retry_chunk : std::min(kIoChunk, front.size() - c.out_offset);
        const ssize_t n = gnutls_record_send(c.tls->get(), front.data() + c.out_offset, chunk);
        if (n < 0) {
            if (retry(static_cast<int>(n))) c.retry_chunk = chunk;
            else c.dead = true;
            return;
        }
        c.retry_chunk = 0;
        c.out_offset += static_cast<size_t>(n);
        c.out_bytes -= static_cast<size_t>(n);
        if (c.out_offset == front.size()) {
            c.out.pop_front();
            c.out_offset = 0;
        }
    }
    if (!c.dead && c.out.empty() && c.close_after_flush) {
        gnutls_bye(c.tls->get(), GNUTLS_SHUT_WR);  // best effort: the socket is closed next
        c.dead = true;
    }
}

}  // namespace dhtalk
