#pragma once
// QueuedDelay: one-way delay and loss for real sockets, where the kernel
// has no netem (this machine's: CONFIG_NET_SCH_NETEM is not set). An
// iptables NFQUEUE rule hands each matching packet to this process, which
// lets it go `delay` later, or drops it with probability `loss`; packets
// keep their order (one delay for all). For the cross-validation of the
// simulator against dhtalk-node processes (bench/crossval_bench.cpp), run
// in a network namespace of its own: the rules must not touch the host's
// traffic. Needs CAP_NET_ADMIN.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "common/status.h"

namespace dhtalk::bench {

// Moves this process, and the processes it starts from then on, into a
// network namespace of its own with its loopback interface up, where every
// packet to or from `address` (a loopback address other than 127.0.0.1) is
// queued to netfilter queue `queue`. Needs root and iptables-legacy (the
// nftables front end cannot queue on this kernel).
Status enter_queued_namespace(const std::string& address, uint16_t queue);

class QueuedDelay {
public:
    struct Options {
        uint16_t queue = 0;  // the rule's --queue-num
        std::chrono::microseconds delay{20000};
        double loss = 0;  // independent, per packet
        uint64_t seed = 1;
    };
    struct Counts {
        uint64_t passed = 0;
        uint64_t dropped = 0;  // by `loss`
        uint64_t overflows = 0;  // times the kernel could not hand packets over (those are lost)
    };

    // Binds the queue and starts the thread that holds and releases packets.
    static Result<std::unique_ptr<QueuedDelay>> start(const Options& options);
    // Lets every packet still held go at once, and unbinds.
    ~QueuedDelay();
    Counts counts() const;

    struct State;

private:
    explicit QueuedDelay(std::unique_ptr<State> state);
    std::unique_ptr<State> state_;
};

}  // namespace dhtalk::bench
