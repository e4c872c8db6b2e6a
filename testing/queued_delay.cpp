#include "testing/queued_delay.h"

#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <spawn.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <deque>
#include <random>
#include <thread>
#include <vector>

#include <libnetfilter_queue/libnetfilter_queue.h>

namespace dhtalk::bench {

using Clock = std::chrono::steady_clock;

namespace {

// Runs iptables-legacy with `args`; looks in the system's sbin folders too
// (root's tools, often off a user's PATH).
Status iptables(std::vector<std::string> args) {
    std::string program;
    for (const char* dir : {"/usr/sbin", "/sbin", "/usr/bin", "/bin"})
        if (::access((std::string(dir) + "/iptables-legacy").c_str(), X_OK) == 0) {
            program = std::string(dir) + "/iptables-legacy";
            break;
        }
    if (program.empty()) return Status::not_found("iptables-legacy is not installed (apt-get install iptables)");
    args.insert(args.begin(), program);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = -1;
    if (::posix_spawn(&pid, program.c_str(), nullptr, nullptr, argv.data(), environ) != 0)
        return Status::io_error("cannot start " + program);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return Status::io_error("iptables-legacy refused a rule");
    return Status::ok();
}

}  // namespace

Status enter_queued_namespace(const std::string& address, uint16_t queue) {
    if (::unshare(CLONE_NEWNET) != 0)
        return Status::denied(std::string("cannot make a network namespace (root is needed): ") + std::strerror(errno));
    const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return Status::io_error("no socket for the loopback interface");
    ifreq lo{};
    std::strncpy(lo.ifr_name, "lo", IFNAMSIZ - 1);
    bool up = ::ioctl(fd, SIOCGIFFLAGS, &lo) == 0;
    lo.ifr_flags = static_cast<short>(lo.ifr_flags | IFF_UP);
    up = up && ::ioctl(fd, SIOCSIFFLAGS, &lo) == 0;
    ::close(fd);
    if (!up) return Status::io_error("cannot bring the namespace's loopback interface up");
    // Both ways: a connection from 127.0.0.1 to `address` is answered from it.
    for (const char* way : {"-d", "-s"})
        DHTALK_TRY(iptables({"-t", "mangle", "-A", "OUTPUT", way, address, "-j", "NFQUEUE", "--queue-num", std::to_string(queue)}));
    return Status::ok();
}

struct QueuedDelay::State {
    Options options;
    nfq_handle* handle = nullptr;
    nfq_q_handle* queue = nullptr;
    int wake_fd = -1;
    std::thread thread;
    struct Held {
        uint32_t id;
        Clock::time_point due;
    };
    std::deque<Held> held;  // in arrival order, which is due order
    std::mt19937_64 rng;
    std::atomic<uint64_t> passed{0}, dropped{0}, overflows{0};

    ~State() {
        if (queue) nfq_destroy_queue(queue);
        if (handle) nfq_close(handle);
        if (wake_fd >= 0) ::close(wake_fd);
    }

    static int on_packet(nfq_q_handle*, nfgenmsg*, nfq_data* data, void* self) {
        auto* s = static_cast<State*>(self);
        const nfqnl_msg_packet_hdr* header = nfq_get_msg_packet_hdr(data);
        if (!header) return 0;
        const uint32_t id = ntohl(header->packet_id);
        if (s->options.loss > 0 && std::uniform_real_distribution<double>(0, 1)(s->rng) < s->options.loss) {
            ++s->dropped;  // counted before the verdict: a reader of the counts never runs ahead of them
            nfq_set_verdict(s->queue, id, NF_DROP, 0, nullptr);
            return 0;
        }
        s->held.push_back({id, Clock::now() + s->options.delay});
        return 0;
    }

    void release(bool all) {
        const auto now = Clock::now();
        while (!held.empty() && (all || held.front().due <= now)) {
            ++passed;  // before the verdict: the packet may be read at once
            nfq_set_verdict(queue, held.front().id, NF_ACCEPT, 0, nullptr);
            held.pop_front();
        }
    }

    void run() {
        const int fd = nfq_fd(handle);
        std::vector<char> buffer(1 << 16);
        for (;;) {
            timespec wait{1, 0};
            if (!held.empty()) {
                const auto left = std::max(Clock::duration::zero(), held.front().due - Clock::now());
                const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
                wait = {static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
            }
            pollfd fds[2] = {{fd, POLLIN, 0}, {wake_fd, POLLIN, 0}};
            ::ppoll(fds, 2, &wait, nullptr);
            if (fds[1].revents & POLLIN) break;
            for (;;) {  // everything the kernel has handed over so far
                const ssize_t n = ::recv(fd, buffer.data(), buffer.size(), MSG_DONTWAIT);
                if (n > 0) {
                    nfq_handle_packet(handle, buffer.data(), static_cast<int>(n));
                    continue;
                }
                if (n < 0 && errno == ENOBUFS) {  // the socket overflowed: those packets are gone
                    ++overflows;
                    continue;
                }
                break;
            }
            release(false);
        }
        release(true);
    }
};

QueuedDelay::QueuedDelay(std::unique_ptr<State> state) : state_(std::move(state)) {}

Result<std::unique_ptr<QueuedDelay>> QueuedDelay::start(const Options& options) {
    if (options.delay.count() < 0 || options.loss < 0 || options.loss >= 1)
        return Status::invalid("a delay of 0 or more and a loss in [0, 1) are needed");
    auto s = std::make_unique<State>();
    s->options = options;
    s->rng.seed(options.seed);
    s->handle = nfq_open();
    if (!s->handle) return Status::io_error(std::string("cannot open netfilter's queue interface: ") + std::strerror(errno));
    nfq_unbind_pf(s->handle, AF_INET);  // fails harmlessly on kernels that need no binding
    if (nfq_bind_pf(s->handle, AF_INET) < 0)
        return Status::denied(std::string("cannot bind netfilter's queue (CAP_NET_ADMIN is needed): ") + std::strerror(errno));
    s->queue = nfq_create_queue(s->handle, options.queue, &State::on_packet, s.get());
    if (!s->queue)
        return Status::io_error("cannot take netfilter queue " + std::to_string(options.queue) + ": " + std::strerror(errno));
    if (nfq_set_mode(s->queue, NFQNL_COPY_META, 0) < 0) return Status::io_error("cannot set the queue's copy mode");
    // Held packets wait in the kernel: room for a few seconds of a busy network.
    nfq_set_queue_maxlen(s->queue, 1 << 17);
    const int bytes = 16 << 20;
    ::setsockopt(nfq_fd(s->handle), SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes);
    s->wake_fd = ::eventfd(0, EFD_CLOEXEC);
    if (s->wake_fd < 0) return Status::io_error("eventfd failed");
    State* raw = s.get();
    s->thread = std::thread([raw] { raw->run(); });
    return std::unique_ptr<QueuedDelay>(new QueuedDelay(std::move(s)));
}

QueuedDelay::~QueuedDelay() {
    const uint64_t one = 1;
    if (::write(state_->wake_fd, &one, sizeof one) < 0) {
        // The thread cannot be told to stop; leaving it would block forever.
        std::terminate();
    }
    state_->thread.join();
}

QueuedDelay::Counts QueuedDelay::counts() const {
    return {state_->passed.load(), state_->dropped.load(), state_->overflows.load()};
}

}  // namespace dhtalk::bench
