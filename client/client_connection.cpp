#include "client/client_connection.h"

#include <optional>

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/host_port.h"

namespace dhtalk::client {

using namespace std::chrono;
using Deadline = steady_clock::time_point;

namespace {

bool retry(int rc) { return rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED; }

Result<int> connect_to(const std::string& host, uint16_t port, Deadline deadline, const std::string& endpoint) {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res) != 0 || !res)
        return Status::unavailable("cannot resolve " + host);
    std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> guard(res, freeaddrinfo);
    Status last = Status::unavailable("no address for " + endpoint);
    for (addrinfo* ai = res; ai; ai = ai->ai_next) {
        const int fd = ::socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) continue;
        if (::connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) return fd;
        if (errno == EINPROGRESS) {
            pollfd p{fd, POLLOUT, 0};
            const auto ms = duration_cast<milliseconds>(deadline - steady_clock::now()).count();
            if (::poll(&p, 1, static_cast<int>(std::max<int64_t>(ms, 0))) == 1) {
                int err = 0;
                socklen_t len = sizeof err;
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
                if (err == 0) return fd;
                last = Status::unavailable("cannot connect to " + endpoint + ": " + std::strerror(err));
            } else {
                last = Status::timeout("no answer from " + endpoint);
            }
        } else {
            last = Status::unavailable("cannot connect to " + endpoint + ": " + std::strerror(errno));
        }
        ::close(fd);
    }
    return last;
}

}  // namespace

Result<std::unique_ptr<ClientConnection>> ClientConnection::open(const std::string& endpoint,
                                                                 std::shared_ptr<crypto::TlsCredentials> credentials,
                                                                 milliseconds timeout) {
    auto hp = parse_host_port(endpoint);
    if (!hp) return Status::invalid("--node " + endpoint + ": " + hp.status().message());
    const Deadline deadline = steady_clock::now() + timeout;
    std::unique_ptr<ClientConnection> c(new ClientConnection());
    c->endpoint_ = endpoint;
    auto fd = connect_to(hp->first, hp->second, deadline, endpoint);
    if (!fd) return fd.status();
    c->fd_ = *fd;
    const int one = 1;
    setsockopt(c->fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // requests are small and wait for replies
    c->credentials_ = std::move(credentials);
    auto tls = crypto::TlsSession::open(crypto::TlsSession::Role::kClient, c->fd_, *c->credentials_,
                                        c->credentials_->session_for(endpoint));
    if (!tls) return tls.status();
    c->tls_ = std::move(tls).value();
    for (;;) {
        const int rc = gnutls_handshake(c->tls_->get());
        if (rc == 0) break;
        if (rc < 0 && !retry(rc)) c->credentials_->forget_session(endpoint);  // a ticket the node no longer takes
        if (rc == GNUTLS_E_PUSH_ERROR || rc == GNUTLS_E_PULL_ERROR || rc == GNUTLS_E_PREMATURE_TERMINATION)
            return Status::unavailable(endpoint + " closed the connection during the TLS handshake (a node "
                                       "refuses sessions when it has too many, from this address or in all)");
        if (!retry(rc))
            return Status::unavailable("TLS handshake with " + endpoint + " failed: " + gnutls_strerror(rc));
        DHTALK_TRY(c->wait(gnutls_record_get_direction(c->tls_->get()) ? POLLOUT : POLLIN, deadline));
    }
    return c;
}

ClientConnection::~ClientConnection() {
    if (tls_) gnutls_bye(tls_->get(), GNUTLS_SHUT_WR);  // best effort, non-blocking
    tls_.reset();
    if (fd_ >= 0) ::close(fd_);
}

Status ClientConnection::wait(short events, Deadline deadline) {
    pollfd p{fd_, events, 0};
    const auto ms = duration_cast<milliseconds>(deadline - steady_clock::now()).count();
    if (ms <= 0) return Status::timeout("no answer from " + endpoint_ + " in time");
    const int n = ::poll(&p, 1, static_cast<int>(ms));
    if (n < 0 && errno != EINTR) return Status::io_error(std::string("poll: ") + std::strerror(errno));
    if (n == 0) return Status::timeout("no answer from " + endpoint_ + " in time");
    return Status::ok();
}

Status ClientConnection::write_all(const std::string& bytes, Deadline deadline) {
    size_t off = 0;
    while (off < bytes.size()) {
        const size_t chunk = std::min<size_t>(16 * 1024, bytes.size() - off);
        const ssize_t n = gnutls_record_send(tls_->get(), bytes.data() + off, chunk);
        if (n > 0) {
            off += static_cast<size_t>(n);
            continue;
        }
        if (!retry(static_cast<int>(n)))
            return Status::unavailable("the connection to " + endpoint_ + " broke: " + gnutls_strerror(static_cast<int>(n)));
        DHTALK_TRY(wait(POLLOUT, deadline));
    }
    return Status::ok();
}

Status ClientConnection::send_raw(const std::string& bytes) { return write_all(bytes, steady_clock::now() + seconds(30)); }

Result<uint64_t> ClientConnection::send(const std::string& method, FrameParams params) {
    ClientFrame f;
    f.id = next_id_++;
    f.kind = method;
    f.params = std::move(params);
    DHTALK_TRY(write_all(encode_frame(f), steady_clock::now() + seconds(30)));
    return f.id;
}

Result<ClientFrame> ClientConnection::receive(milliseconds timeout) {
    if (kept_.empty()) return read_frame(timeout);
    ClientFrame f = std::move(kept_.front());
    kept_.pop_front();
    return f;
}

Result<ClientFrame> ClientConnection::read_frame(milliseconds timeout) {
    const Deadline deadline = steady_clock::now() + timeout;
    char buf[16 * 1024];
    for (;;) {
        if (auto frame = reader_.next()) {
            if (!*frame) return Status::corruption("the node sent a malformed frame: " + frame->status().message());
            ClientFrame f = std::move(*frame).value();
            if (f.id == 0 && f.code != 0) return f.status();  // the node refuses this session
            return f;
        }
        const ssize_t n = gnutls_record_recv(tls_->get(), buf, sizeof buf);
        if (!ticket_kept_) keep_ticket();
        if (n > 0) {
            Status fed = reader_.feed({buf, static_cast<size_t>(n)});
            if (!fed) return Status::corruption("the node sent an oversized frame");
            continue;
        }
        if (n == 0) return Status::unavailable(endpoint_ + " closed the connection");
        if (!retry(static_cast<int>(n)))
            return Status::unavailable("the connection to " + endpoint_ + " broke: " + gnutls_strerror(static_cast<int>(n)));
        DHTALK_TRY(wait(POLLIN, deadline));
    }
}

void ClientConnection::keep_ticket() {
    std::string ticket = tls_->ticket();
    if (ticket.empty()) return;
    credentials_->remember_session(endpoint_, std::move(ticket));
    ticket_kept_ = true;
}

Result<std::vector<ClientFrame>> ClientConnection::call_batch(const std::string& method,
                                                             std::vector<FrameParams> params, milliseconds timeout) {
    if (params.empty()) return std::vector<ClientFrame>{};
    std::vector<uint64_t> ids;
    for (auto& p : params) {
        auto id = send(method, std::move(p));
        if (!id) return id.status();
        ids.push_back(*id);
    }
    std::vector<std::optional<ClientFrame>> replies(ids.size());
    size_t missing = ids.size();
    const Deadline deadline = steady_clock::now() + timeout;
    while (missing > 0) {
        auto left = duration_cast<milliseconds>(deadline - steady_clock::now());
        auto f = read_frame(std::max(left, milliseconds(1)));
        if (!f) return f.status();
        // Ids are handed out in order: a reply's place is its distance from the first.
        const uint64_t at = f->id - ids.front();
        if (f->id >= ids.front() && at < ids.size() && !replies[at]) {
            replies[at] = std::move(f).value();
            --missing;
            continue;
        }
        if (kept_.size() == kMaxKeptFrames) kept_.pop_front();
        kept_.push_back(std::move(f).value());
    }
    std::vector<ClientFrame> out;
    for (auto& r : replies) out.push_back(std::move(*r));
    return out;
}

Result<ClientFrame> ClientConnection::call(const std::string& method, FrameParams params, milliseconds timeout) {
    auto id = send(method, std::move(params));
    if (!id) return id.status();
    const Deadline deadline = steady_clock::now() + timeout;
    for (;;) {
        auto left = duration_cast<milliseconds>(deadline - steady_clock::now());
        auto f = read_frame(std::max(left, milliseconds(1)));
        if (!f) return f.status();
        if (f->id == *id) return f;
        // A push, or the reply to a pipelined request: the caller's, later.
        if (kept_.size() == kMaxKeptFrames) kept_.pop_front();
        kept_.push_back(std::move(f).value());
    }
}

}  // namespace dhtalk::client
