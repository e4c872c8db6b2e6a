#include "sim/sim_swarm.h"

#include <cassert>

#include "sim/sim_entropy.h"

namespace dhtalk {

// One OpenDHT node attached to the simulated network, over the same socket
// chain as a node's overlay: the network's receiving socket, sealed if the
// swarm is. Datagrams come up through the chain to OpenDHT; refused ones
// never reach it.
class SimDhtNode final : public SimHost {
public:
    SimDhtNode(SimNetwork& network, const dht::InfoHash& id, dht::NetId network_id, bool sealed)
        : network_(network), host_(network.add_host()) {
        dht::Config config;
        config.node_id = id;
        config.network = network_id;
        // Simulated nodes share addresses (all of them 127.0.0.1, or 64 to an
        // address in the benchmarking range): a per-address limit would
        // throttle them as if they were one peer.
        config.max_req_per_sec = -1;
        config.max_peer_req_per_sec = -1;
        std::unique_ptr<dht::net::DatagramSocket> socket = network.open_receiving_socket(host_, this);
        if (sealed) {
            // steady_clock is the virtual clock here, so grace periods run on virtual time.
            auto s = std::make_unique<SealedSocket>(std::move(socket), clock_, counters_);
            sealed_ = s.get();
            socket = std::move(s);
        }
        // A bare dht::Dht reads nothing itself (DhtRunner would): hand it
        // each datagram that comes up the chain.
        socket->setOnReceive([this](dht::net::PacketList&& packets) {
            for (auto& p : packets) dht_->periodic(p.data.data(), p.data.size(), std::move(p.from), p.received);
            return dht::net::PacketList{};
        });
        dht_ = std::make_unique<dht::Dht>(std::move(socket), config, std::shared_ptr<dht::Logger>{});
    }
    ~SimDhtNode() override {
        dht_.reset();  // its socket hands the host back to this node: detach it
        network_.attach(host_, nullptr);
    }

    // After each datagram too: what OpenDHT scheduled while reading it.
    SteadyTime on_wake(SteadyTime now) override { return dht_->periodic(nullptr, 0, dht::SockAddr(), now); }
    SteadyTime on_datagram(const uint8_t*, size_t, const dht::SockAddr&, SteadyTime now) override {
        return on_wake(now);  // only while the socket is detached: nothing listens
    }

    dht::Dht& dht() { return *dht_; }
    SimNetwork::HostId host() const { return host_; }
    SealedSocket* sealed() { return sealed_; }
    const SealCounters& counters() const { return *counters_; }

private:
    SimNetwork& network_;
    SimNetwork::HostId host_;
    SystemClock clock_;
    std::shared_ptr<SealCounters> counters_ = std::make_shared<SealCounters>();
    SealedSocket* sealed_ = nullptr;  // owned by dht_
    std::unique_ptr<dht::Dht> dht_;
};

namespace {

dht::InfoHash hash_from(Rng& rng) {
    dht::InfoHash h;
    for (size_t i = 0; i < h.size(); i += 8) {
        uint64_t x = rng.next_u64();
        for (size_t j = 0; j < 8 && i + j < h.size(); ++j) h[i + j] = static_cast<uint8_t>(x >> (8 * j));
    }
    return h;
}

}  // namespace

SimSwarm::SimSwarm(const SwarmConfig& config)
    : config_(config), rng_(config.seed), network_([&] {
          LinkConfig link = config.link;
          link.seed = config.seed ^ 0x6c696e6bULL;  // an independent stream for the links
          return link;
      }(), config.addresses) {
    assert(config.network_id != 0);
    sim_entropy::seed(config.seed ^ 0x656e74726f7079ULL);  // OpenDHT's own random choices
}

SimSwarm::~SimSwarm() {
    nodes_.clear();
    sim_entropy::unseed();
}

void SimSwarm::add_nodes(size_t count, std::chrono::milliseconds join_time,
                         const std::function<void(size_t)>& progress) {
    constexpr size_t kBatch = 50;
    for (size_t started = 0; started < count;) {
        const size_t batch = std::min(kBatch, count - started);
        for (size_t b = 0; b < batch; ++b) {
            const size_t existing = nodes_.size();
            auto node = std::make_unique<SimDhtNode>(network_, hash_from(rng_), config_.network_id, config_.sealed);
            for (size_t c = 0; c < std::min(config_.bootstrap_contacts, existing); ++c) {
                auto& peer = *nodes_[rng_.uniform(existing)];
                node->dht().insertNode(peer.dht().getNodeId(), network_.address(peer.host()));
            }
            network_.wake_now(node->host());
            nodes_.push_back(std::move(node));
        }
        started += batch;
        network_.run_for(join_time);
        if (progress) progress(nodes_.size());
    }
}

dht::Dht& SimSwarm::dht(size_t node) { return nodes_.at(node)->dht(); }

bool SimSwarm::put(size_t node, const dht::InfoHash& key, dht::Value value, std::chrono::seconds limit) {
    auto& n = *nodes_.at(node);
    // Shared with the callback, which OpenDHT may still call after we give up.
    struct State {
        bool done = false;
        bool ok = false;
    };
    auto state = std::make_shared<State>();
    n.dht().put(key, std::move(value), [state](bool success, const std::vector<std::shared_ptr<dht::Node>>&) {
        state->done = true;
        state->ok = success;
    });
    network_.wake_now(n.host());  // the put added jobs to its scheduler
    network_.run_until_true([&] { return state->done; }, limit);
    return state->ok;
}

SimSwarm::GetResult SimSwarm::get(size_t node, const dht::InfoHash& key, std::chrono::seconds limit) {
    auto& n = *nodes_.at(node);
    const SteadyTime start = network_.now();
    struct State {
        GetResult result;
        bool done = false;
    };
    auto state = std::make_shared<State>();
    SimNetwork* network = &network_;
    n.dht().get(
        key,
        [state, network, start](const std::vector<std::shared_ptr<dht::Value>>& values) {
            auto& r = state->result;
            if (r.values.empty() && !values.empty())
                r.latency = std::chrono::duration_cast<std::chrono::microseconds>(network->now() - start);
            r.values.insert(r.values.end(), values.begin(), values.end());
            return r.values.empty();  // one answer with values is enough
        },
        [state](bool, const std::vector<std::shared_ptr<dht::Node>>&) { state->done = true; });
    network_.wake_now(n.host());
    network_.run_until_true([&] { return state->done || state->result.found(); }, limit);
    GetResult result = state->result;
    if (!result.found())
        result.latency = std::chrono::duration_cast<std::chrono::microseconds>(network_.now() - start);
    return result;
}

dht::InfoHash SimSwarm::random_key() { return hash_from(rng_); }

void SimSwarm::set_seal_key(size_t node, const EpochKey& key, std::chrono::milliseconds grace) {
    auto* sealed = nodes_.at(node)->sealed();
    assert(sealed);
    sealed->set_key(key, grace).ignore_error();  // fails only if GnuTLS lacks AES-GCM
}

const SealCounters& SimSwarm::seal_counters(size_t node) { return nodes_.at(node)->counters(); }

void SimSwarm::introduce(size_t node, size_t peer) {
    auto& n = *nodes_.at(node);
    auto& p = *nodes_.at(peer);
    n.dht().insertNode(p.dht().getNodeId(), network_.address(p.host()));
    network_.wake_now(n.host());
}

}  // namespace dhtalk
