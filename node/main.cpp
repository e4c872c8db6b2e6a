// dhtalk-node: the storage node. Wires the real clock, sockets and database
// into a Node, then sleeps until the node's next tick, a wake-up from one of
// its threads, or a stop signal.
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>

#include <cstdio>
#include <ctime>

#include "common/log.h"
#include "node/config.h"
#include "node/node.h"
#include "node/node_env.h"

namespace {

// The node's threads wake the main thread with this signal when they have
// posted work for its loop (NodeEnv::wake).
constexpr int kWakeSignal = SIGUSR1;

// Blocks the stop signals and the wake signal in every thread (call before
// any thread starts), so that the main thread alone takes them with
// sigtimedwait().
sigset_t block_loop_signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, kWakeSignal);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    return set;
}

// Every client session holds a descriptor: take the most the system allows
// this process (the soft limit is often 1,024; the hard one far more).
// Returns the limit now in force (0 if unknown).
rlim_t raise_descriptor_limit() {
    rlimit lim{};
    if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return 0;
    if (lim.rlim_cur < lim.rlim_max) {
        lim.rlim_cur = lim.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &lim) != 0) getrlimit(RLIMIT_NOFILE, &lim);
    }
    return lim.rlim_cur;
}

// Descriptors a node needs besides its client sessions: the database, the
// sockets of the DHT, the peer service and the status server, their peers.
constexpr rlim_t kDescriptorsBesidesSessions = 512;

}  // namespace

int main(int argc, char** argv) {
    using namespace dhtalk;
    const sigset_t loop_signals = block_loop_signals();
    signal(SIGPIPE, SIG_IGN);  // a client that hangs up must not kill the node
    const rlim_t descriptors = raise_descriptor_limit();

    auto args = parse_node_args(argc, argv);
    if (!args) {
        std::fprintf(stderr, "dhtalk-node: %s (see dhtalk-node --help)\n", args.status().message().c_str());
        return 2;
    }
    if (args->action != ParsedArgs::Action::kRun) {
        std::fputs(args->text.c_str(), stdout);
        return 0;
    }
    const NodeConfig& config = args->config;
    log::set_level(config.log_level);
    if (descriptors && descriptors != RLIM_INFINITY && descriptors < config.max_client_sessions + kDescriptorsBesidesSessions)
        DHTALK_LOG(kWarning, "node", "the descriptor limit (" << descriptors << ") holds fewer than --max-client-sessions ("
                                         << config.max_client_sessions << ") sessions and the node's own "
                                         << kDescriptorsBesidesSessions << ": raise it (ulimit -n, or LimitNOFILE= in "
                                         "a systemd unit) or lower --max-client-sessions; over it, new clients are refused");

    SystemClock clock;
    NodeEnv env = system_node_env(clock);
    env.wake = [main_thread = pthread_self()] { pthread_kill(main_thread, kWakeSignal); };
    auto node = Node::open(config, env);
    if (!node) {
        std::fprintf(stderr, "dhtalk-node: %s\n", node.status().to_string().c_str());
        return node.status().code() == Code::kInvalidArgument ? 2 : 1;
    }

    for (;;) {
        const auto next = (*node)->tick();
        const auto wait = std::max(std::chrono::nanoseconds(0), next - clock.now());
        timespec ts{static_cast<time_t>(wait.count() / 1'000'000'000), static_cast<long>(wait.count() % 1'000'000'000)};
        const int sig = sigtimedwait(&loop_signals, nullptr, &ts);  // a timeout or kWakeSignal: tick
        if (sig == SIGINT || sig == SIGTERM) {
            DHTALK_LOG(kInfo, "node", "received " << (sig == SIGINT ? "SIGINT" : "SIGTERM") << ", stopping");
            break;
        }
    }
    Status stopped = (*node)->stop();
    if (!stopped) {
        std::fprintf(stderr, "dhtalk-node: stopped with an error: %s\n", stopped.to_string().c_str());
        return 1;
    }
    return 0;
}
