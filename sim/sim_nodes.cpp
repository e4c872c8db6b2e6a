#include "sim/sim_nodes.h"

#include <gnutls/crypto.h>
#include <opendht/sockaddr.h>

#include "common/host_port.h"
#include "crypto/node_identity.h"
#include "net/peer_net.h"
#include "node/front/verification_sender.h"
#include "node/node.h"
#include "sim/fiber_drivers.h"
#include "sim/sim_entropy.h"
#include "storage/memory_store.h"
#include "storage/shared_store.h"

namespace dhtalk {

using namespace std::chrono;

// The network's virtual time; the wall clock runs beside it from a fixed
// date (2026-01-01), so that a run writes the same times on every replay.
class SimNodes::SimClock final : public Clock {
public:
    explicit SimClock(SteadyTime start) : start_(start) {}
    SteadyTime now() const override { return steady_clock::now(); }  // virtual: sim/virtual_time.h
    WallTime wall_now() const override {
        return from_unix_millis(kWallStartMs) + duration_cast<system_clock::duration>(now() - start_);
    }

private:
    static constexpr int64_t kWallStartMs = 1'767'225'600'000;
    SteadyTime start_;
};

// The peer service's transport in memory. A request goes to the handler
// listening at the endpoint's port if the network lets datagrams through
// both ways between the two hosts (neither down, no partition between
// them); else the asker cannot connect, as over TCP. Asked from a blocking
// turn (a Worker's job: sim/fiber_drivers.h), the exchange takes virtual
// time: a TCP handshake's round trip (each exchange opens a connection),
// then the request reaches the peer after a one-way delay of the link
// (never lost: TCP resends), its handler runs then, and the answer comes
// back after another; a peer out of reach costs the connect bound (2 s), one
// that goes out of reach meanwhile the read bound (5 s), as tcp_peer_net()'s
// do. Asked from anywhere else, it is answered at once.
class SimNodes::SimPeerNet {
public:
    using Handler = PeerNet::Handler;
    explicit SimPeerNet(SimNetwork& network) : network_(network) {}

    Result<std::unique_ptr<PeerListener>> listen(SimNetwork::HostId host, uint16_t port, const PeerHttpLimits& limits,
                                                 Handler handler) {
        if (port == 0) return Status::invalid("a simulated node listens on its own port");
        if (handlers_.count(port)) return Status::busy("port " + std::to_string(port) + " is taken");
        handlers_[port] = Listening{host, limits, std::move(handler)};
        return std::unique_ptr<PeerListener>(std::make_unique<Listener>(*this, port));
    }

    // The request comes from `host` at `address`: what the peer service
    // counts its rate against.
    Result<PeerAnswer> exchange_from(SimNetwork::HostId host, const std::string& address, const std::string& endpoint,
                                     const PeerCall& call, size_t limit) {
        const auto peer = host_of(endpoint);
        auto parking = peer ? Parking::here() : nullptr;  // a refused connection is answered at once
        if (!parking) return answer(host, address, endpoint, call, limit);
        const SteadyTime asked = network_.now();
        auto result = std::make_shared<Result<PeerAnswer>>(Status::timeout("no answer from " + endpoint + " in time"));
        auto end_wait_at = [this, parking](SteadyTime when) { network_.call_at(when, [parking] { parking->done(); }); };
        if (!network_.passes(host, *peer) || !network_.passes(*peer, host)) {
            *result = Status::unavailable("cannot reach " + endpoint + ": no route (down or partitioned)");
            end_wait_at(asked + kConnectBound);
        } else {
            const SimNetwork::HostId to = *peer;
            // A new connection for each exchange, as tcp_peer_net()'s: the
            // handshake's round trip, then the request (with its last ACK).
            const auto handshake = network_.stream_delay(host, to) + network_.stream_delay(to, host);
            network_.call_at(asked + handshake + network_.stream_delay(host, to), [=, this] {
                auto answered = answer(host, address, endpoint, call, limit);
                // Lost on the way there, or the answer cannot come back: the asker hears nothing.
                if ((!answered && answered.status().code() == Code::kUnavailable) || !network_.passes(to, host))
                    return end_wait_at(asked + kReadBound);
                *result = std::move(answered);
                end_wait_at(network_.now() + network_.stream_delay(to, host));
            });
        }
        if (!parking->wait()) return Status::unavailable("this node is stopping");
        return std::move(*result);
    }

    // Bodies of requests and answers so far, by kind (kind_of).
    const std::map<std::string, uint64_t>& bytes() const { return bytes_; }

private:
    static constexpr std::chrono::seconds kConnectBound{2}, kReadBound{5};

    std::optional<SimNetwork::HostId> host_of(const std::string& endpoint) const {
        auto hp = parse_host_port(endpoint);
        if (!hp) return std::nullopt;
        auto it = handlers_.find(hp->second);
        if (it == handlers_.end()) return std::nullopt;
        return it->second.host;
    }

    // The exchange as it stands now: the handler runs at once.
    Result<PeerAnswer> answer(SimNetwork::HostId host, const std::string& address, const std::string& endpoint,
                              const PeerCall& call, size_t limit) {
        auto hp = parse_host_port(endpoint);
        if (!hp) return hp.status();
        auto it = handlers_.find(hp->second);
        if (it == handlers_.end()) return Status::unavailable("cannot reach " + endpoint + ": connection refused");
        if (!network_.passes(host, it->second.host) || !network_.passes(it->second.host, host))
            return Status::unavailable("cannot reach " + endpoint + ": no route (down or partitioned)");
        if (call.body.size() > it->second.limits.max_body_bytes)
            return PeerAnswer{413, "the request is too large\n"};
        HttpRequest req;
        req.method = call.method;
        const auto q = call.path.find('?');
        req.path = call.path.substr(0, q);
        if (q != std::string::npos) req.query = call.path.substr(q + 1);
        req.remote_addr = address;
        if (!call.origin.empty()) req.headers["x-dhtalk-origin"] = call.origin;
        req.body = call.body;
        // A copy: the handler may stop this very listener (a node leaving).
        const Handler handler = it->second.handler;
        HttpResponse res = handler(req);
        bytes_[kind_of(req.path)] += call.body.size() + res.body.size();
        if (res.body.size() > limit)
            return Status::corruption(endpoint + " answered with more than " + std::to_string(limit) + " bytes");
        return PeerAnswer{res.status, std::move(res.body)};
    }

    static std::string kind_of(const std::string& path) {
        if (path.rfind("/v1/inbox", 0) == 0) return "messages";
        if (path.rfind("/v1/registrar", 0) == 0) return "registration";
        return "trust";  // applications, ballots, epochs, rosters, audits
    }

    struct Listening {
        SimNetwork::HostId host = 0;
        PeerHttpLimits limits;
        Handler handler;
    };
    class Listener final : public PeerListener {
    public:
        Listener(SimPeerNet& net, uint16_t port) : net_(net), port_(port) {}
        ~Listener() override { stop(); }
        uint16_t port() const override { return port_; }
        void stop() override { net_.handlers_.erase(port_); }

    private:
        SimPeerNet& net_;
        uint16_t port_;
    };
    SimNetwork& network_;
    std::map<uint16_t, Listening> handlers_;
    std::map<std::string, uint64_t> bytes_;
};

// One node's view of the transport: its requests come from an address of
// its own (every simulated host's datagrams come from 127.0.0.1, but a
// shared address would put every node in one rate-limit bucket at each peer
// service).
class SimNodes::SimPeerView final : public PeerNet {
public:
    SimPeerView(SimPeerNet& net, SimNetwork::HostId host, std::string address)
        : net_(net), host_(host), address_(std::move(address)) {}
    Result<std::unique_ptr<PeerListener>> listen(const std::string&, uint16_t port, const PeerHttpLimits& limits,
                                                 Handler handler) override {
        return net_.listen(host_, port, limits, std::move(handler));
    }
    Result<PeerAnswer> exchange(const std::string& endpoint, const PeerCall& call, size_t limit) override {
        return net_.exchange_from(host_, address_, endpoint, call, limit);
    }

private:
    SimPeerNet& net_;
    const SimNetwork::HostId host_;
    const std::string address_;
};

// One node's place: its host on the network, where its parts take their
// turns, and its state that outlives it.
struct SimNodes::Slot final : SimHost {
    SimNetwork::HostId host = 0;
    std::filesystem::path dir;
    std::shared_ptr<OwnerDrivers> drivers;
    std::shared_ptr<MemoryStore> store;
    std::optional<crypto::NodeIdentity> identity;  // given by set_identity(), else made in the data directory
    std::unique_ptr<Node> node;
    std::unique_ptr<PeerNet> peers;  // this slot's view of the peer transport
    MemoryFront* front = nullptr;  // owned by the node
    uint64_t starts = 0;

    // Everything the node's parts asked for, and the node's own tick.
    SteadyTime on_wake(SteadyTime now) override {
        SteadyTime next = drivers->run_due(now);
        if (node) next = std::min(next, node->tick());
        return std::min(next, drivers->run_due(now));  // what the tick posted or woke
    }
    SteadyTime on_datagram(const uint8_t*, size_t, const dht::SockAddr&, SteadyTime now) override {
        return on_wake(now);  // only between the node's sockets: nothing listens
    }
};

SimNodes::SimNodes(const SimNodesConfig& config) : config_(config), network_(config.link) {
    sim_entropy::seed(config.seed);
    gnutls_rnd_refresh();  // GnuTLS reseeds from the seed too (sim_entropy.h)
    clock_ = std::make_unique<SimClock>(network_.now());
    peers_ = std::make_unique<SimPeerNet>(network_);
}

SimNodes::~SimNodes() {
    for (auto& s : slots_)
        if (s->node) s->node->stop().ignore_error();
    slots_.clear();
    sim_entropy::unseed();
}

const Clock& SimNodes::clock() const { return *clock_; }

size_t SimNodes::add_slot() {
    auto s = std::make_unique<Slot>();
    s->host = network_.add_host();
    s->store = std::make_shared<MemoryStore>(stored_values_);
    s->dir = config_.dir / ("node-" + std::to_string(slots_.size()));
    SimNetwork* network = &network_;
    const auto host = s->host;
    s->drivers = std::make_shared<OwnerDrivers>([network, host] { network->wake_now(host); });
    network_.attach(host, s.get());
    slots_.push_back(std::move(s));
    return slots_.size() - 1;
}

std::string SimNodes::endpoint(size_t i) const {
    return "127.0.0.1:" + std::to_string(network_.address(slots_.at(i)->host).getPort());
}

SimNetwork::HostId SimNodes::host(size_t i) const { return slots_.at(i)->host; }

const std::filesystem::path& SimNodes::data_dir(size_t i) const { return slots_.at(i)->dir; }

Store& SimNodes::store(size_t i) { return *slots_.at(i)->store; }

Status SimNodes::set_identity(size_t i, const std::filesystem::path& identity_dir) {
    auto identity = crypto::load_or_create_identity(identity_dir);
    if (!identity) return identity.status();
    slots_.at(i)->identity = std::move(identity).value();
    return Status::ok();
}

Status SimNodes::start(size_t i, NodeConfig config) {
    Slot& s = *slots_.at(i);
    if (s.node) return Status::invalid("node " + std::to_string(i) + " is running");
    const uint16_t port = network_.address(s.host).getPort();
    config.data_dir = s.dir;
    config.bind = "127.0.0.1";
    config.advertise = "127.0.0.1";
    config.dht_port = port;

    NodeEnv env;
    env.clock = clock_.get();
    env.open_store = [store = s.store](const std::filesystem::path&) -> Result<std::unique_ptr<Store>> {
        return std::unique_ptr<Store>(std::make_unique<SharedStore>(store));
    };
    env.make_sms_sender = [this](const NodeConfig&) -> std::unique_ptr<VerificationSender> {
        return std::make_unique<CallbackSender>(
            [this](const std::string& e164, const std::string& code) { codes_[e164] = code; });
    };
    SimNetwork* network = &network_;
    const auto host = s.host;
    env.wake = [network, host] { network->wake_now(host); };
    env.drivers = std::make_shared<FiberDrivers>(s.drivers);
    env.dht_loop_on_receive = false;
    Slot* slot = &s;
    env.open_datagram_socket = [network, host, slot](const dht::SockAddr&, const dht::SockAddr&,
                                                     std::shared_ptr<DatagramCounters>)
        -> Result<std::unique_ptr<dht::net::DatagramSocket>> { return network->open_receiving_socket(host, slot); };
    if (!s.peers)
        s.peers = std::make_unique<SimPeerView>(*peers_, host, "127.1." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1));
    env.peer_net = s.peers.get();
    env.open_client_front = [slot](const ClientServerConfig&, std::shared_ptr<crypto::TlsCredentials>,
                                   ClientHandler& handler, const Clock&) -> Result<std::unique_ptr<ClientFront>> {
        auto front = std::make_unique<MemoryFront>(handler);
        slot->front = front.get();
        return std::unique_ptr<ClientFront>(std::move(front));
    };
    env.serve_status = false;
    if (config_.records) env.records_dht = [records = config_.records, i](RecordDht& overlay) { return records(i, overlay); };
    const uint64_t seed = config_.seed ^ (uint64_t{i} << 32) ^ s.starts++;
    env.random_seed = [seed] { return seed * 0x9e3779b97f4a7c15ull + 1; };
    env.load_identity = [slot](const std::filesystem::path& dir) -> Result<crypto::NodeIdentity> {
        if (slot->identity) return *slot->identity;
        return crypto::load_or_create_identity(dir);
    };

    network_.set_down(s.host, false);
    auto node = Node::open(config, env);
    if (!node) {
        s.front = nullptr;
        return node.status();
    }
    s.node = std::move(node).value();
    network_.wake_now(s.host);
    return Status::ok();
}

void SimNodes::stop(size_t i) {
    Slot& s = *slots_.at(i);
    if (!s.node) return;
    s.node->stop().ignore_error();  // logged by the node
    s.node.reset();
    s.front = nullptr;
}

void SimNodes::crash(size_t i) {
    Slot& s = *slots_.at(i);
    if (!s.node) return;
    network_.set_down(s.host, true);  // what it says while it goes is never heard
    s.node.reset();
    s.front = nullptr;
}

Node* SimNodes::node(size_t i) { return slots_.at(i)->node.get(); }

MemoryFront* SimNodes::front(size_t i) { return slots_.at(i)->front; }

const std::map<std::string, uint64_t>& SimNodes::peer_bytes() const { return peers_->bytes(); }

std::string SimNodes::last_code(const std::string& e164) const {
    auto it = codes_.find(e164);
    return it == codes_.end() ? std::string() : it->second;
}

}  // namespace dhtalk
