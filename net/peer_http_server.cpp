#include "net/peer_http_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "common/address_bucket.h"
#include "common/log.h"

namespace dhtalk {

using Steady = std::chrono::steady_clock;
using namespace std::chrono;

namespace {

std::string address_text(const sockaddr_storage& a) {
    char text[INET6_ADDRSTRLEN] = {};
    if (a.ss_family == AF_INET)
        inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(a).sin_addr, text, sizeof text);
    else if (a.ss_family == AF_INET6)
        inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6&>(a).sin6_addr, text, sizeof text);
    return text;
}

}  // namespace

struct PeerHttpServer::Impl {
    // A connection reads its request, waits for its handler, writes the
    // answer, then drains what the peer still sends until it closes (so
    // that closing with unread bytes does not reset the answer away).
    enum class State { kReading, kHandling, kWriting, kDraining };
    struct Connection {
        int fd = -1;
        std::string bucket;
        State state = State::kReading;
        std::string in;
        size_t head_end = std::string::npos;  // where the body starts, once the head is in
        size_t body_length = 0;               // reserved from the inbound budget once the head is in
        HttpRequest request;
        std::string out;                      // counted in the outbound budget
        size_t written = 0;
        Steady::time_point deadline;
    };
    static constexpr auto kDrainTime = seconds(2);
    static constexpr size_t kRefusalSlots = 64;  // connections told "busy" at once, beyond the limit

    PeerHttpLimits limits;
    Handler handler;
    int listen_fd = -1;
    int wake_fd = -1;
    uint16_t port = 0;
    std::atomic<uint64_t> dropped{0};

    // The loop thread's own.
    std::map<uint64_t, Connection> connections;
    std::map<std::string, size_t> per_bucket;
    uint64_t next_id = 1;
    size_t inbound = 0;   // bytes of request bodies announced and not yet handled
    size_t outbound = 0;  // bytes of answers not yet written
    Steady::time_point accept_paused_until{};
    std::atomic<bool> ending{false};

    struct Job {
        uint64_t id;
        HttpRequest request;
    };
    std::mutex mutex;
    std::condition_variable wake_pool;
    std::deque<Job> jobs;                                // guarded by mutex
    std::vector<std::pair<uint64_t, std::string>> done;  // guarded by mutex: answers for the loop
    bool stopping = false;                               // guarded by mutex

    std::thread loop_thread;
    std::vector<std::thread> pool;

    void wake() {
        const uint64_t one = 1;
        (void)!::write(wake_fd, &one, sizeof one);
    }

    void close_connection(std::map<uint64_t, Connection>::iterator it) {
        Connection& c = it->second;
        ::close(c.fd);
        outbound -= c.out.size();
        if (c.state == State::kReading) inbound -= c.body_length;  // a handled one gave its share back already
        if (--per_bucket[c.bucket] == 0) per_bucket.erase(c.bucket);
        connections.erase(it);
    }

    void start_answer(Connection& c, std::string out) {
        if (outbound + out.size() > limits.max_buffered_bytes)
            out = serialize_http_response({503, "text/plain", "busy: too many answers waiting to be taken\n"});
        outbound -= c.out.size();
        c.out = std::move(out);
        outbound += c.out.size();
        c.written = 0;
        c.state = State::kWriting;
        c.deadline = Steady::now() + limits.response_deadline;
    }

    void refuse(Connection& c, int status, const std::string& why) {
        if (c.state == State::kReading) inbound -= c.body_length;
        c.body_length = 0;
        start_answer(c, serialize_http_response({status, "text/plain", why + "\n"}));
    }

    void accept_all() {
        for (;;) {
            sockaddr_storage from{};
            socklen_t len = sizeof from;
            const int fd = ::accept4(listen_fd, reinterpret_cast<sockaddr*>(&from), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd < 0) {
                // Out of descriptors: the backlog waits instead of the loop spinning on it.
                if (errno == EMFILE || errno == ENFILE) accept_paused_until = Steady::now() + milliseconds(100);
                return;
            }
            if (connections.size() >= limits.max_connections + kRefusalSlots) {
                dropped++;  // refusing costs a slot too: past a few, close at once
                ::close(fd);
                continue;
            }
            Connection c;
            c.fd = fd;
            c.request.remote_addr = address_text(from);
            c.bucket = address_bucket(c.request.remote_addr);
            const std::string bucket = c.bucket;
            per_bucket[bucket]++;
            const bool full = connections.size() >= limits.max_connections ||
                              per_bucket[bucket] > limits.max_connections_per_address;
            auto it = connections.emplace(next_id++, std::move(c)).first;
            if (full) {
                // Told, not cut: a caller that sees 503 knows it was not heard.
                dropped++;
                start_answer(it->second, serialize_http_response({503, "text/plain", "busy: too many connections\n"}));
                if (!write_some(it->second)) close_connection(it);
                continue;
            }
            it->second.deadline = Steady::now() + limits.request_deadline;
        }
    }

    // Reads what has come; false when the connection is to be closed.
    bool read_some(uint64_t id, Connection& c) {
        char buf[16 * 1024];
        for (;;) {
            const ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
            if (n == 0) return false;  // the peer gave up
            if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
            c.in.append(buf, static_cast<size_t>(n));
            if (c.head_end == std::string::npos) {
                const auto blank = c.in.find("\r\n\r\n");
                if ((blank == std::string::npos && c.in.size() > limits.max_head_bytes) ||
                    (blank != std::string::npos && blank > limits.max_head_bytes)) {
                    refuse(c, 431, "request head over " + std::to_string(limits.max_head_bytes) + " bytes");
                    return true;
                }
                if (blank == std::string::npos) continue;
                size_t length = 0;
                if (const int status = parse_http_head(std::string_view(c.in).substr(0, blank), limits.max_body_bytes,
                                                       c.request, length)) {
                    refuse(c, status, "malformed or refused request");
                    return true;
                }
                if (inbound + length > limits.max_buffered_bytes) {
                    refuse(c, 503, "busy: too many request bodies on their way");
                    return true;
                }
                c.head_end = blank + 4;
                c.body_length = length;
                inbound += length;
            }
            if (c.in.size() >= c.head_end + c.body_length) {
                c.request.body = c.in.substr(c.head_end, c.body_length);  // bytes past it (pipelining) are ignored
                c.in.clear();
                c.in.shrink_to_fit();
                inbound -= c.body_length;
                c.state = State::kHandling;
                {
                    std::lock_guard lock(mutex);
                    jobs.push_back({id, std::move(c.request)});
                }
                wake_pool.notify_one();
                return true;
            }
        }
    }

    // Writes what it can; once the answer is out, half-closes and drains.
    // False when the connection is to be closed.
    bool write_some(Connection& c) {
        while (c.written < c.out.size()) {
            const ssize_t n = ::send(c.fd, c.out.data() + c.written, c.out.size() - c.written, MSG_NOSIGNAL);
            if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
            c.written += static_cast<size_t>(n);
        }
        outbound -= c.out.size();
        c.out = std::string();
        ::shutdown(c.fd, SHUT_WR);
        c.state = State::kDraining;
        c.deadline = Steady::now() + kDrainTime;
        return true;
    }

    // Discards what the peer still sends; false once it has closed.
    static bool drain(Connection& c) {
        char buf[16 * 1024];
        for (;;) {
            const ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
            if (n == 0) return false;
            if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
        }
    }

    void take_answers() {
        uint64_t count;
        (void)!::read(wake_fd, &count, sizeof count);
        std::vector<std::pair<uint64_t, std::string>> ready;
        {
            std::lock_guard lock(mutex);
            ready.swap(done);
        }
        for (auto& [id, out] : ready) {
            auto it = connections.find(id);
            if (it == connections.end()) continue;
            start_answer(it->second, std::move(out));
            if (!write_some(it->second)) close_connection(it);
        }
    }

    short events_of(const Connection& c) const {
        return c.state == State::kWriting ? POLLOUT : POLLIN;
    }

    void run_loop() {
        std::vector<pollfd> fds;
        std::vector<uint64_t> ids;
        while (!ending) {
            fds.clear();
            ids.clear();
            const auto now = Steady::now();
            fds.push_back({now >= accept_paused_until ? listen_fd : -1, POLLIN, 0});
            fds.push_back({wake_fd, POLLIN, 0});
            auto next = now + seconds(1);
            for (auto& [id, c] : connections) {
                if (c.state == State::kHandling) continue;
                fds.push_back({c.fd, events_of(c), 0});
                ids.push_back(id);
                next = std::min(next, c.deadline);
            }
            if (accept_paused_until > now) next = std::min(next, accept_paused_until);
            const auto wait = duration_cast<milliseconds>(next - now).count();
            const int ready = ::poll(fds.data(), fds.size(), static_cast<int>(std::max<long long>(wait, 0) + 1));
            if (ending) break;
            if (ready < 0 && errno != EINTR) {
                DHTALK_LOG(kError, "peers", "poll failed: " << std::strerror(errno));
                std::this_thread::sleep_for(milliseconds(100));  // and try again: peers must not find a dead port
                continue;
            }
            if (fds[1].revents & POLLIN) take_answers();
            if (fds[0].revents & POLLIN) accept_all();
            for (size_t i = 2; i < fds.size(); ++i) {
                if (!fds[i].revents) continue;
                auto it = connections.find(ids[i - 2]);
                if (it == connections.end()) continue;
                Connection& c = it->second;
                bool keep = true;
                switch (c.state) {
                case State::kReading:
                    keep = read_some(it->first, c);
                    if (keep && c.state == State::kWriting) keep = write_some(c);  // a refusal, at once
                    break;
                case State::kWriting: keep = write_some(c); break;
                case State::kDraining: keep = drain(c); break;
                case State::kHandling: break;
                }
                if (!keep) close_connection(it);
            }
            const auto after = Steady::now();
            for (auto it = connections.begin(); it != connections.end();) {
                auto here = it++;
                const Connection& c = here->second;
                if (c.state == State::kHandling || c.deadline > after) continue;
                if (c.state != State::kDraining) dropped++;  // a drain that times out was answered
                close_connection(here);
            }
        }
        for (auto it = connections.begin(); it != connections.end();) close_connection(it++);
    }

    void run_pool() {
        for (;;) {
            Job job;
            {
                std::unique_lock lock(mutex);
                wake_pool.wait(lock, [&] { return stopping || !jobs.empty(); });
                if (stopping) return;
                job = std::move(jobs.front());
                jobs.pop_front();
            }
            // Even a request whose caller stopped waiting is handled: the
            // peer documents are idempotent, and a late ballot still counts.
            HttpResponse r;
            try {
                r = handler(job.request);
            } catch (const std::exception& e) {
                r = {500, "text/plain", std::string("internal error: ") + e.what() + "\n"};
            } catch (...) {
                r = {500, "text/plain", "internal error\n"};
            }
            {
                std::lock_guard lock(mutex);
                done.emplace_back(job.id, serialize_http_response(r));
            }
            wake();
        }
    }
};

PeerHttpServer::PeerHttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

PeerHttpServer::~PeerHttpServer() { stop(); }

uint16_t PeerHttpServer::port() const { return impl_->port; }

uint64_t PeerHttpServer::dropped() const { return impl_->dropped; }

Result<std::unique_ptr<PeerHttpServer>> PeerHttpServer::start(const std::string& host, uint16_t port,
                                                              PeerHttpLimits limits, Handler handler) {
    auto impl = std::make_unique<Impl>();
    impl->limits = limits;
    impl->handler = std::move(handler);
    const std::string where = (host.empty() ? "*" : host) + ":" + std::to_string(port);
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* found = nullptr;
    const std::string service = std::to_string(port);
    if (int e = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &found); e != 0)
        return Status::invalid("cannot serve peers on " + where + ": " + gai_strerror(e));
    std::string error = "no address";
    for (addrinfo* a = found; a && impl->listen_fd < 0; a = a->ai_next) {
        const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) continue;
        const int yes = 1;
        ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
        if (::bind(fd, a->ai_addr, a->ai_addrlen) == 0 && ::listen(fd, 128) == 0) {
            impl->listen_fd = fd;
            sockaddr_storage bound{};
            socklen_t len = sizeof bound;
            ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
            impl->port = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6&>(bound).sin6_port
                                                             : reinterpret_cast<sockaddr_in&>(bound).sin_port);
        } else {
            error = std::strerror(errno);
            ::close(fd);
        }
    }
    ::freeaddrinfo(found);
    if (impl->listen_fd < 0) return Status::busy("cannot serve peers on TCP " + where + ": " + error);
    impl->wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (impl->wake_fd < 0) {
        ::close(impl->listen_fd);
        return Status::internal(std::string("eventfd: ") + std::strerror(errno));
    }
    Impl* i = impl.get();
    i->loop_thread = std::thread([i] { i->run_loop(); });
    for (size_t t = 0; t < std::max<size_t>(limits.handler_threads, 1); ++t) i->pool.emplace_back([i] { i->run_pool(); });
    return std::unique_ptr<PeerHttpServer>(new PeerHttpServer(std::move(impl)));
}

void PeerHttpServer::stop() {
    Impl& i = *impl_;
    if (i.listen_fd < 0) return;
    {
        std::lock_guard lock(i.mutex);
        i.stopping = true;
        i.jobs.clear();
    }
    i.wake_pool.notify_all();
    i.ending = true;
    i.wake();
    if (i.loop_thread.joinable()) i.loop_thread.join();
    for (auto& t : i.pool) t.join();
    i.pool.clear();
    ::close(i.listen_fd);
    ::close(i.wake_fd);
    i.listen_fd = -1;
}

}  // namespace dhtalk
