#include "node/front/client_server.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
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
// epoll keys of the two descriptors that are not sessions (session ids count up from 1).
constexpr uint64_t kWakeKey = UINT64_MAX, kListenKey = UINT64_MAX - 1;
// How often deadlines (handshake, idle) are looked at: one pass over the
// sessions per sweep, never one per event.
constexpr auto kSweepInterval = std::chrono::milliseconds(250);

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
    uint32_t watched = 0;  // the epoll events registered for fd
    std::shared_ptr<crypto::TlsCredentials> credentials;  // what the session presented: outlives tls
    std::unique_ptr<crypto::TlsSession> tls;
    State state = State::kHandshake;
    SteadyTime deadline;
    FrameReader reader;
    std::deque<std::string> out;
    size_t out_offset = 0;   // into out.front()
    size_t out_bytes = 0;
    size_t retry_chunk = 0;  // GnuTLS wants the same chunk again after EAGAIN
    TokenBucket requests;  // this session's requests
    TokenBucket media;     // this session's media chunks
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
    mutable std::mutex credentials_mutex;
    std::shared_ptr<crypto::TlsCredentials> credentials;  // guarded by credentials_mutex
    ClientHandler& handler;
    const Clock& clock;
    RateLimiter address_limiter;
    RateLimiter accept_limiter;  // new connections per address: each handshake costs an RSA signature
    std::shared_ptr<Mailbox> mailbox = std::make_shared<Mailbox>();
    int listen_fd = -1;
    int wake_fd = -1;
    int epoll_fd = -1;
    std::atomic<bool> stopping{false};
    uint64_t next_id = 1;
    std::unordered_map<uint64_t, std::unique_ptr<Connection>> connections;  // I/O thread only
    std::unordered_map<std::string, size_t> per_address;                    // I/O thread only
    SteadyTime next_recheck{};                                               // I/O thread only
    SteadyTime next_sweep{};                                                 // I/O thread only
    std::vector<uint64_t> touched;  // sessions served this turn: closed at its end if dead; I/O thread only

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
        if (epoll_fd >= 0) ::close(epoll_fd);
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
    void drain_mailbox();
    void sweep(SteadyTime now);
    // Registers what `c` now waits for, if that changed.
    void watch(Connection& c);
    uint32_t events_of(const Connection& c) const;
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
    impl->epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
    if (impl->epoll_fd < 0) return Status::io_error(std::string("epoll: ") + std::strerror(errno));
    epoll_event wake{EPOLLIN, {.u64 = kWakeKey}}, listen{EPOLLIN, {.u64 = kListenKey}};
    if (::epoll_ctl(impl->epoll_fd, EPOLL_CTL_ADD, impl->wake_fd, &wake) != 0 ||
        ::epoll_ctl(impl->epoll_fd, EPOLL_CTL_ADD, impl->listen_fd, &listen) != 0)
        return Status::io_error(std::string("epoll: ") + std::strerror(errno));
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

void ClientServer::set_credentials(std::shared_ptr<crypto::TlsCredentials> credentials) {
    std::lock_guard lock(impl_->credentials_mutex);
    impl_->credentials = std::move(credentials);
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

uint32_t ClientServer::Impl::events_of(const Connection& c) const {
    if (c.state == Connection::State::kHandshake)
        return gnutls_record_get_direction(c.tls->get()) == 1 ? uint32_t{EPOLLOUT} : uint32_t{EPOLLIN};
    uint32_t ev = c.close_after_flush ? 0 : uint32_t{EPOLLIN};
    if (!c.out.empty()) ev |= uint32_t{EPOLLOUT};
    return ev;
}

void ClientServer::Impl::watch(Connection& c) {
    const uint32_t want = events_of(c);
    if (c.dead || want == c.watched) return;
    epoll_event ev{want, {.u64 = c.session.id}};
    if (::epoll_ctl(epoll_fd, EPOLL_CTL_MOD, c.fd, &ev) != 0) {
        c.dead = true;
        return;
    }
    c.watched = want;
}

// An epoll loop: each turn costs what the ready sessions need, not the
// number of open ones (poll() looked at every descriptor on every turn).
void ClientServer::Impl::run() {
    std::vector<epoll_event> ready(256);
    while (!stopping) {
        const auto wait = duration_cast<milliseconds>(next_sweep - clock.now()).count();
        const int n = ::epoll_wait(epoll_fd, ready.data(), static_cast<int>(ready.size()),
                                   static_cast<int>(std::clamp<int64_t>(wait + 1, 0, 1000)));
        if (n < 0 && errno != EINTR) {
            DHTALK_LOG(kError, "clients", "epoll_wait failed: " << std::strerror(errno));
            break;
        }
        for (int i = 0; i < n; ++i) {
            const uint64_t key = ready[static_cast<size_t>(i)].data.u64;
            if (key == kWakeKey) {
                drain_mailbox();
            } else if (key == kListenKey) {
                accept_all();
            } else if (auto it = connections.find(key); it != connections.end() && !it->second->dead) {
                service(*it->second);
                touched.push_back(key);
            }
        }
        const auto now = clock.now();
        if (now >= next_recheck) {
            next_recheck = now + config.recheck_interval;
            recheck_logins();
        }
        if (now >= next_sweep) {
            next_sweep = now + kSweepInterval;
            sweep(now);
        }
        for (uint64_t id : touched) {
            auto it = connections.find(id);
            if (it == connections.end()) continue;
            if (it->second->dead) close(id);
            else watch(*it->second);
        }
        touched.clear();
        if (n == static_cast<int>(ready.size()) && ready.size() < 4096) ready.resize(ready.size() * 2);
    }
}

void ClientServer::Impl::drain_mailbox() {
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
        if (c.state != Connection::State::kOpen || c.close_after_flush || c.dead) continue;
        if (!l.push && c.in_flight) c.in_flight--;
        send(c, l.frame);
        flush(c);
        touched.push_back(l.session);
    }
}

void ClientServer::Impl::sweep(SteadyTime now) {
    for (auto& [id, c] : connections) {
        if (c->dead || now < c->deadline) continue;
        if (c->state == Connection::State::kHandshake) failed_handshakes++;
        c->dead = true;
        touched.push_back(id);
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
        std::shared_ptr<crypto::TlsCredentials> presented;
        {
            std::lock_guard lock(credentials_mutex);
            presented = credentials;
        }
        auto tls = crypto::TlsSession::open(crypto::TlsSession::Role::kServer, fd, *presented);
        if (!tls) {
            ::close(fd);
            DHTALK_LOG(kError, "clients", tls.status().to_string());
            continue;
        }
        auto c = std::make_unique<Connection>();
        c->fd = fd;
        c->credentials = std::move(presented);
        c->tls = std::move(tls).value();
        c->deadline = clock.now() + config.handshake_timeout;
        c->requests = TokenBucket::full(2 * config.requests_per_second, clock.now());
        c->media = TokenBucket::full(2 * config.media_requests_per_second, clock.now());
        c->session.id = next_id++;
        c->session.address = address;
        const uint64_t id = c->session.id;
        epoll_event ev{EPOLLIN, {.u64 = id}};
        if (::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0) {
            DHTALK_LOG(kError, "clients", "epoll: " << std::strerror(errno));
            continue;  // c closes the socket
        }
        c->watched = EPOLLIN;
        per_address[address]++;
        accepted++;
        sessions++;
        connections.emplace(id, std::move(c));
        service(*connections[id]);  // the client's hello may already be here
        touched.push_back(id);
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
        touched.push_back(id);
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
    if (f.kind.rfind("media.", 0) == 0) {
        // Busy, not exhausted: a transfer waits a moment and goes on.
        c.media.refill(now, config.media_requests_per_second, 2 * config.media_requests_per_second);
        if (c.media.tokens < 1) {
            rate_limited++;
            send(c, ClientFrame::error_reply(f.id, Status::busy("too many media chunks: slow down")));
            return;
        }
        c.media.take();
    } else {
        c.requests.refill(now, config.requests_per_second, 2 * config.requests_per_second);
        // The address is charged only for a request its session may make.
        if (c.requests.tokens < 1 || !address_limiter.allow(c.session.address)) {
            rate_limited++;
            send(c, ClientFrame::error_reply(f.id, Status::exhausted("too many requests: slow down")));
            return;
        }
        c.requests.take();
    }
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
