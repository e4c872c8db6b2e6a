#include "node/peer_http_server.h"

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

using Clock = std::chrono::steady_clock;
using namespace std::chrono;

namespace {

const char* reason(int status) {
    switch (status) {
    case 200: return "OK";
    case 202: return "Accepted";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Content Too Large";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    default: return "Status";
    }
}

std::string serialize(const HttpResponse& r) {
    std::string out = "HTTP/1.1 " + std::to_string(r.status) + " " + reason(r.status) + "\r\n";
    if (!r.body.empty()) out += "Content-Type: " + r.content_type + "\r\n";
    out += "Content-Length: " + std::to_string(r.body.size()) + "\r\nConnection: close\r\n\r\n";
    out += r.body;
    return out;
}

std::string lowercase(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

std::string trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return std::string(s);
}

bool is_token(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s)
        if (!std::isalnum(static_cast<unsigned char>(c)) && !std::strchr("!#$%&'*+-.^_`|~", c)) return false;
    return true;
}

}  // namespace

int parse_http_head(std::string_view head, size_t max_body, HttpRequest& r, size_t& body_length) {
    const auto line_end = head.find("\r\n");
    const std::string_view line = head.substr(0, line_end);
    const auto sp1 = line.find(' ');
    const auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos) return 400;
    r.method = std::string(line.substr(0, sp1));
    const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    const std::string_view version = line.substr(sp2 + 1);
    if (!is_token(r.method) || target.empty() || target.front() != '/' ||
        (version != "HTTP/1.1" && version != "HTTP/1.0"))
        return 400;
    const auto q = target.find('?');
    r.path = std::string(target.substr(0, q));
    if (q != std::string_view::npos) r.query = std::string(target.substr(q + 1));
    std::string_view rest = line_end == std::string_view::npos ? std::string_view() : head.substr(line_end + 2);
    while (!rest.empty()) {
        const auto end = rest.find("\r\n");
        const std::string_view h = rest.substr(0, end);
        rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 2);
        const auto colon = h.find(':');
        if (colon == std::string_view::npos || !is_token(h.substr(0, colon))) return 400;
        const std::string name = lowercase(std::string(h.substr(0, colon)));
        const std::string value = trim(h.substr(colon + 1));
        auto [it, fresh] = r.headers.emplace(name, value);
        if (!fresh && it->second != value) return 400;  // two different values: ambiguous framing
    }
    if (r.headers.count("transfer-encoding")) return 501;
    body_length = 0;
    if (auto it = r.headers.find("content-length"); it != r.headers.end()) {
        const std::string& v = it->second;
        if (v.empty() || v.size() > 19 || v.find_first_not_of("0123456789") != std::string::npos) return 400;
        const unsigned long long n = std::stoull(v);
        if (n > max_body) return 413;
        body_length = static_cast<size_t>(n);
    }
    return 0;
}

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

std::string HttpRequest::header(const std::string& name) const {
    auto it = headers.find(lowercase(name));
    return it == headers.end() ? std::string() : it->second;
}

std::string HttpRequest::param(const std::string& name) const {
    std::string_view q = query;
    while (!q.empty()) {
        const auto amp = q.find('&');
        const std::string_view pair = q.substr(0, amp);
        const auto eq = pair.find('=');
        if (pair.substr(0, eq) == name) return eq == std::string_view::npos ? std::string() : std::string(pair.substr(eq + 1));
        q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
    }
    return {};
}

struct PeerHttpServer::Impl {
    enum class State { kReading, kHandling, kWriting };
    struct Connection {
        int fd = -1;
        std::string address, bucket;
        State state = State::kReading;
        std::string in;
        size_t head_end = std::string::npos;  // where the body starts, once the head is in
        size_t body_length = 0;
        HttpRequest request;
        std::string out;
        size_t written = 0;
        Clock::time_point deadline;
    };

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
    std::atomic<bool> ending{false};

    std::mutex mutex;
    std::condition_variable wake_pool;
    std::deque<std::pair<uint64_t, HttpRequest>> jobs;   // guarded by mutex
    std::vector<std::pair<uint64_t, std::string>> done;  // guarded by mutex: answers for the loop
    bool stopping = false;                               // guarded by mutex

    std::thread loop_thread;
    std::vector<std::thread> pool;

    void wake() {
        const uint64_t one = 1;
        (void)!::write(wake_fd, &one, sizeof one);
    }

    void close_connection(std::map<uint64_t, Connection>::iterator it) {
        ::close(it->second.fd);
        if (--per_bucket[it->second.bucket] == 0) per_bucket.erase(it->second.bucket);
        connections.erase(it);
    }

    void answer(Connection& c, const HttpResponse& r) {
        c.out = serialize(r);
        c.written = 0;
        c.state = State::kWriting;
        c.deadline = Clock::now() + limits.response_deadline;
    }

    void accept_all() {
        for (;;) {
            sockaddr_storage from{};
            socklen_t len = sizeof from;
            const int fd = ::accept4(listen_fd, reinterpret_cast<sockaddr*>(&from), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd < 0) return;  // EAGAIN, or an aborted connection
            const std::string address = address_text(from);
            const std::string bucket = address_bucket(address);
            if (connections.size() >= limits.max_connections ||
                per_bucket[bucket] >= limits.max_connections_per_address) {
                if (per_bucket[bucket] == 0) per_bucket.erase(bucket);
                ::close(fd);
                dropped++;
                continue;
            }
            per_bucket[bucket]++;
            Connection c;
            c.fd = fd;
            c.address = address;
            c.bucket = bucket;
            c.deadline = Clock::now() + limits.request_deadline;
            connections.emplace(next_id++, std::move(c));
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
                if (blank == std::string::npos) {
                    if (c.in.size() > limits.max_head_bytes) {
                        answer(c, {431, "text/plain", "request head over " + std::to_string(limits.max_head_bytes) + " bytes\n"});
                        return true;
                    }
                    continue;
                }
                if (blank > limits.max_head_bytes) {
                    answer(c, {431, "text/plain", "request head over " + std::to_string(limits.max_head_bytes) + " bytes\n"});
                    return true;
                }
                c.request.remote_addr = c.address;
                const int refused = parse_http_head(std::string_view(c.in).substr(0, blank), limits.max_body_bytes,
                                               c.request, c.body_length);
                if (refused) {
                    answer(c, {refused, "text/plain", "malformed or refused request\n"});
                    return true;
                }
                c.head_end = blank + 4;
            }
            if (c.in.size() >= c.head_end + c.body_length) {
                c.request.body = c.in.substr(c.head_end, c.body_length);  // bytes past it (pipelining) are ignored
                c.in.clear();
                c.in.shrink_to_fit();
                c.state = State::kHandling;
                {
                    std::lock_guard lock(mutex);
                    jobs.emplace_back(id, std::move(c.request));
                }
                wake_pool.notify_one();
                return true;
            }
        }
    }

    // Writes what it can; false once the answer is out (or cannot be).
    bool write_some(Connection& c) {
        while (c.written < c.out.size()) {
            const ssize_t n = ::send(c.fd, c.out.data() + c.written, c.out.size() - c.written, MSG_NOSIGNAL);
            if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
            c.written += static_cast<size_t>(n);
        }
        ::shutdown(c.fd, SHUT_WR);
        return false;
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
            it->second.out = std::move(out);
            it->second.written = 0;
            it->second.state = State::kWriting;
            it->second.deadline = Clock::now() + limits.response_deadline;
            if (!write_some(it->second)) close_connection(it);
        }
    }

    void run_loop() {
        std::vector<pollfd> fds;
        std::vector<uint64_t> ids;
        while (!ending) {
            fds.clear();
            ids.clear();
            fds.push_back({listen_fd, POLLIN, 0});
            fds.push_back({wake_fd, POLLIN, 0});
            auto next = Clock::now() + seconds(1);
            for (auto& [id, c] : connections) {
                if (c.state == State::kHandling) continue;
                fds.push_back({c.fd, static_cast<short>(c.state == State::kReading ? POLLIN : POLLOUT), 0});
                ids.push_back(id);
                next = std::min(next, c.deadline);
            }
            const auto wait = duration_cast<milliseconds>(next - Clock::now()).count();
            const int ready = ::poll(fds.data(), fds.size(), static_cast<int>(std::max<long long>(wait, 0) + 1));
            if (ending) break;
            if (ready < 0 && errno != EINTR) {
                DHTALK_LOG(kError, "peers", "poll failed: " << std::strerror(errno));
                break;
            }
            if (fds[1].revents & POLLIN) take_answers();
            if (fds[0].revents & POLLIN) accept_all();
            for (size_t i = 2; i < fds.size(); ++i) {
                if (!fds[i].revents) continue;
                auto it = connections.find(ids[i - 2]);
                if (it == connections.end()) continue;
                Connection& c = it->second;
                bool keep;
                if (c.state == State::kReading) {
                    keep = read_some(it->first, c);
                    if (keep && c.state == State::kWriting) keep = write_some(c);  // a refusal, at once
                } else {
                    keep = write_some(c);
                }
                if (!keep) close_connection(it);
            }
            const auto now = Clock::now();
            for (auto it = connections.begin(); it != connections.end();) {
                auto here = it++;
                if (here->second.state != State::kHandling && here->second.deadline <= now) {
                    dropped++;
                    close_connection(here);
                }
            }
        }
        for (auto it = connections.begin(); it != connections.end();) close_connection(it++);
    }

    void run_pool() {
        for (;;) {
            std::pair<uint64_t, HttpRequest> job;
            {
                std::unique_lock lock(mutex);
                wake_pool.wait(lock, [&] { return stopping || !jobs.empty(); });
                if (stopping) return;
                job = std::move(jobs.front());
                jobs.pop_front();
            }
            HttpResponse r;
            try {
                r = handler(job.second);
            } catch (const std::exception& e) {
                r = {500, "text/plain", std::string("internal error: ") + e.what() + "\n"};
            }
            {
                std::lock_guard lock(mutex);
                done.emplace_back(job.first, serialize(r));
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
    i.ending = true;
    i.wake();
    if (i.loop_thread.joinable()) i.loop_thread.join();
    {
        std::lock_guard lock(i.mutex);
        i.stopping = true;
        i.jobs.clear();
    }
    i.wake_pool.notify_all();
    for (auto& t : i.pool) t.join();
    i.pool.clear();
    ::close(i.listen_fd);
    ::close(i.wake_fd);
    i.listen_fd = -1;
}

}  // namespace dhtalk
