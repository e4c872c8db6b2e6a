#include "sim/sim_network.h"

#include <algorithm>
#include <cassert>
#include <stdexcept>

#include "sim/virtual_time.h"

namespace dhtalk {
namespace {

constexpr in_port_t kFirstPort = 1;
// The benchmarking range 198.18.0.0/15, 64 ports to an address.
constexpr uint32_t kRangeBase = 0xC6120000;  // 198.18.0.0
constexpr unsigned kRangePortBits = 6;
constexpr uint32_t kRangePortMask = (1u << kRangePortBits) - 1;
constexpr in_port_t kRangeFirstPort = 4222;
static_assert(SimNetwork::kMaxRangeHosts == size_t{1} << (17 + kRangePortBits));
constexpr uint32_t kPathSweepEvery = 1 << 16;  // sends between sweeps of path_free_at_
constexpr std::chrono::seconds kMaxUplinkQueue{1};

// Sending: what enters the network from a host.
class SimSocket : public dht::net::DatagramSocket {
public:
    SimSocket(SimNetwork& network, SimNetwork::HostId host) : network_(network), host_(host) {}

    int sendTo(const dht::SockAddr& dest, const uint8_t* data, size_t size, bool /*replied*/) override {
        network_.send(host_, dest, data, size);
        return 0;
    }
    bool hasIPv4() const override { return true; }
    bool hasIPv6() const override { return false; }
    const dht::SockAddr& getBoundRef(sa_family_t family) const override {
        return family == AF_INET6 ? none_ : network_.address(host_);
    }
    void stop() override {}

protected:
    SimNetwork& network_;
    SimNetwork::HostId host_;

private:
    dht::SockAddr none_;
};

// A socket with a receive side, as a UDP socket has: the host's datagrams go
// to the callback set with setOnReceive(), stamped with virtual time, on the
// thread that runs the network.
class ReceivingSimSocket final : public SimSocket, public SimHost {
public:
    ReceivingSimSocket(SimNetwork& network, SimNetwork::HostId host, SimHost* owner)
        : SimSocket(network, host), owner_(owner) {
        network_.attach(host_, this);
    }
    ~ReceivingSimSocket() override { stop(); }
    void stop() override {
        if (attached_) network_.attach(host_, owner_);
        attached_ = false;
        if (owner_) network_.wake_now(host_);  // what it had asked for is the owner's again
    }
    SteadyTime on_datagram(const uint8_t* data, size_t size, const dht::SockAddr& from, SteadyTime now) override {
        auto packets = getNewPacket();
        auto& p = packets.front();
        p.data.assign(data, data + size);
        p.from = from;
        p.received = now;
        onReceived(std::move(packets));
        return owner_ ? owner_->on_wake(now) : SteadyTime::max();
    }
    SteadyTime on_wake(SteadyTime now) override { return owner_ ? owner_->on_wake(now) : SteadyTime::max(); }

private:
    SimHost* owner_;
    bool attached_ = true;
};

}  // namespace

SimNetwork::SimNetwork(const LinkConfig& link, SimAddresses addresses)
    : link_(link), addresses_(addresses), start_(std::chrono::steady_clock::now()), now_(start_) {
    virtual_time::enable(now_);
}

SimNetwork::~SimNetwork() { virtual_time::disable(); }

SimNetwork::HostId SimNetwork::add_host() {
    const bool range = addresses_ == SimAddresses::kBenchmarkRange;
    if (hosts_.size() >= (range ? kMaxRangeHosts : kMaxHosts)) throw std::length_error("SimNetwork: too many hosts");
    const auto id = static_cast<HostId>(hosts_.size());
    Host h;
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    if (range) {
        sin.sin_addr.s_addr = htonl(kRangeBase + (id >> kRangePortBits));
        sin.sin_port = htons(static_cast<in_port_t>(kRangeFirstPort + (id & kRangePortMask)));
    } else {
        sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        sin.sin_port = htons(static_cast<in_port_t>(kFirstPort + id));
    }
    h.address = dht::SockAddr(reinterpret_cast<const sockaddr*>(&sin), sizeof sin);
    hosts_.push_back(std::move(h));
    return id;
}

std::unique_ptr<dht::net::DatagramSocket> SimNetwork::open_receiving_socket(HostId host, SimHost* owner) {
    return std::make_unique<ReceivingSimSocket>(*this, host, owner);
}

void SimNetwork::attach(HostId host, SimHost* receiver) {
    hosts_[host].receiver = receiver;
    hosts_[host].next_wake = SteadyTime::max();
}

std::optional<SimNetwork::HostId> SimNetwork::host_at(const dht::SockAddr& address) const {
    if (address.getFamily() != AF_INET) return std::nullopt;
    const in_port_t port = address.getPort();
    size_t id;
    if (addresses_ == SimAddresses::kBenchmarkRange) {
        const uint32_t ip = ntohl(address.getIPv4().sin_addr.s_addr);
        if (ip < kRangeBase || port < kRangeFirstPort || port > kRangeFirstPort + kRangePortMask) return std::nullopt;
        id = (size_t{ip - kRangeBase} << kRangePortBits) | (size_t{port} - kRangeFirstPort);
    } else {
        if (port < kFirstPort) return std::nullopt;
        id = size_t{port} - kFirstPort;
    }
    if (id >= hosts_.size()) return std::nullopt;
    return static_cast<HostId>(id);
}

void SimNetwork::send(HostId from, const dht::SockAddr& to, const uint8_t* data, size_t size) {
    stats_.datagrams_sent++;
    stats_.bytes_sent += size;
    hosts_[from].bytes_sent += size;
    const auto known = host_at(to);
    if (!known) {
        stats_.datagrams_undeliverable++;
        return;
    }
    const HostId to_host = *known;
    Host& sender = hosts_[from];
    const auto latency = link_.fate(sender.in_burst);
    if (!latency || sender.down || (blocked_ && blocked_(from, to_host))) {
        stats_.datagrams_lost++;
        return;
    }
    SteadyTime leaves = now_;
    if (sender.uplink > 0) {
        leaves = std::max(now_, sender.uplink_free) +
                 std::chrono::nanoseconds(static_cast<int64_t>(size * 1'000'000'000ull / sender.uplink));
        if (leaves - now_ > kMaxUplinkQueue) {
            stats_.datagrams_lost++;
            return;
        }
        sender.uplink_free = leaves;
    }
    const std::chrono::nanoseconds apart = region_delay(from, to_host);
    // In order on the path: never before the datagram sent ahead of it.
    // Paths whose last datagram has arrived constrain nothing: forget them
    // now and then.
    if (++sends_since_sweep_ >= kPathSweepEvery) {
        std::erase_if(path_free_at_, [&](const auto& p) { return p.second <= now_; });
        sends_since_sweep_ = 0;
    }
    SteadyTime& free_at = path_free_at_[uint64_t{from} << 32 | to_host];
    free_at = std::max(free_at, leaves + *latency + apart + sender.extra_delay + hosts_[to_host].extra_delay);
    push(Event{free_at, 0, to_host, from, false, std::vector<uint8_t>(data, data + size)});
}

std::chrono::nanoseconds SimNetwork::stream_delay(HostId from, HostId to) {
    return link_.latency() + region_delay(from, to) + hosts_[from].extra_delay + hosts_[to].extra_delay;
}

std::chrono::nanoseconds SimNetwork::region_delay(HostId from, HostId to) const {
    const uint32_t a = hosts_[from].region, b = hosts_[to].region;
    return a < region_delays_.size() && b < region_delays_[a].size() ? region_delays_[a][b] : std::chrono::nanoseconds{0};
}

void SimNetwork::call_at(SteadyTime when, std::function<void()> call) {
    calls_.push_back(Call{std::max(when, now_), next_seq_++, std::move(call)});
    std::push_heap(calls_.begin(), calls_.end(), Later{});
}

void SimNetwork::inject(HostId from, HostId to, const uint8_t* data, size_t size) {
    push(Event{now_, 0, to, from, false, std::vector<uint8_t>(data, data + size)});
}

void SimNetwork::wake_at(HostId host, SteadyTime when) {
    Host& h = hosts_[host];
    if (!h.receiver || when >= h.next_wake) return;
    h.next_wake = std::max(when, now_);
    push(Event{h.next_wake, 0, host, host, true, {}});
}

void SimNetwork::push(Event e) {
    e.seq = next_seq_++;
    events_.push_back(std::move(e));
    std::push_heap(events_.begin(), events_.end(), Later{});
}

void SimNetwork::set_now(SteadyTime t) {
    if (t > now_) {
        now_ = t;
        virtual_time::set(t);
    }
}

void SimNetwork::arm(HostId host, SteadyTime next) {
    if (next != SteadyTime::max()) wake_at(host, next);
}

void SimNetwork::run_until(SteadyTime until) {
    for (;;) {
        const bool event_due = !events_.empty() && events_.front().at <= until;
        const bool call_due = !calls_.empty() && calls_.front().at <= until;
        if (!event_due && !call_due) break;
        if (call_due && (!event_due || Later{}(events_.front(), calls_.front()))) {
            std::pop_heap(calls_.begin(), calls_.end(), Later{});
            Call c = std::move(calls_.back());
            calls_.pop_back();
            set_now(c.at);
            c.call();
            continue;
        }
        std::pop_heap(events_.begin(), events_.end(), Later{});
        Event e = std::move(events_.back());
        events_.pop_back();
        set_now(e.at);
        Host& h = hosts_[e.to];
        if (!h.receiver) {
            if (!e.is_wake) stats_.datagrams_undeliverable++;
            continue;
        }
        if (e.is_wake) {
            if (h.next_wake != e.at) continue;  // superseded by an earlier request
            h.next_wake = SteadyTime::max();
            arm(e.to, h.receiver->on_wake(now_));
        } else if (h.down) {
            stats_.datagrams_lost++;
        } else {
            stats_.datagrams_delivered++;
            for (uint64_t v : {static_cast<uint64_t>((e.at - start_).count()), uint64_t{e.from}, uint64_t{e.to},
                               uint64_t{e.payload.size()}})
                digest_ = (digest_ ^ v) * 1099511628211ull;
            arm(e.to, h.receiver->on_datagram(e.payload.data(), e.payload.size(), hosts_[e.from].address, now_));
        }
    }
    set_now(until);
}

bool SimNetwork::run_until_true(const std::function<bool()>& done, std::chrono::nanoseconds limit) {
    const SteadyTime deadline = now_ + limit;
    // Step in small slices so that `done` is checked often without running
    // after every single event.
    constexpr auto kSlice = std::chrono::milliseconds(5);
    while (!done() && now_ < deadline) run_until(std::min(deadline, now_ + kSlice));
    return done();
}

}  // namespace dhtalk
