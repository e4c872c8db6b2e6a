// What travels between nodes: three real nodes of a trusted network in one
// process (real UDP on loopback, the real peer service over TCP), each with
// its datagram socket and its peer transport tapped below everything of
// ours. Two users register and exchange an end-to-end encrypted message
// through different nodes; the message's text is in no datagram and no
// peer request or answer, while the message's id (which nodes see) is.
#include <fstream>
#include <atomic>
#include <mutex>
#include <thread>

#include "client/client.h"
#include "common/json.h"
#include "net/udp_socket.h"
#include "tests/front_end_fixture.h"

using namespace dhtalk;
using namespace dhtalk::front_end_test;

namespace {

// Every byte the nodes sent each other, as they left this process.
struct Wire {
    std::mutex mutex;
    std::vector<std::string> datagrams;  // guarded
    std::vector<std::string> peer;       // guarded: requests and answers of the peer service
    void add(std::vector<std::string>& to, std::string bytes) {
        std::lock_guard lock(mutex);
        to.push_back(std::move(bytes));
    }
    size_t holding(const std::vector<std::string>& in, const std::string& needle) {
        std::lock_guard lock(mutex);
        return static_cast<size_t>(std::count_if(in.begin(), in.end(), [&](const std::string& b) {
            return b.find(needle) != std::string::npos;
        }));
    }
};

// The node's UDP socket, with what it sends copied to the wire.
class TapSocket final : public dht::net::DatagramSocket {
public:
    TapSocket(std::unique_ptr<dht::net::DatagramSocket> inner, Wire& wire) : inner_(std::move(inner)), wire_(wire) {
        inner_->setOnReceive([this](dht::net::PacketList&& packets) {
            onReceived(std::move(packets));
            return dht::net::PacketList{};
        });
    }
    int sendTo(const dht::SockAddr& dest, const uint8_t* data, size_t size, bool replied) override {
        wire_.add(wire_.datagrams, std::string(reinterpret_cast<const char*>(data), size));
        return inner_->sendTo(dest, data, size, replied);
    }
    bool hasIPv4() const override { return inner_->hasIPv4(); }
    bool hasIPv6() const override { return inner_->hasIPv6(); }
    const dht::SockAddr& getBoundRef(sa_family_t family) const override { return inner_->getBoundRef(family); }
    void stop() override { inner_->stop(); }

private:
    std::unique_ptr<dht::net::DatagramSocket> inner_;
    Wire& wire_;
};

// The peer service's transport, with every request and answer copied.
class TapPeerNet final : public PeerNet {
public:
    explicit TapPeerNet(Wire& wire) : wire_(wire) {}
    Result<std::unique_ptr<PeerListener>> listen(const std::string& host, uint16_t port, const PeerHttpLimits& limits,
                                                 Handler handler) override {
        return tcp_peer_net().listen(host, port, limits, std::move(handler));
    }
    Result<PeerAnswer> exchange(const std::string& endpoint, const PeerCall& call, size_t limit) override {
        wire_.add(wire_.peer, call.path + "\n" + call.body);
        auto answer = tcp_peer_net().exchange(endpoint, call, limit);
        if (answer) wire_.add(wire_.peer, answer->body);
        return answer;
    }

private:
    Wire& wire_;
};

struct TappedNetwork {
    test::TempDir dir;
    SystemClock clock;
    Wire wire;
    TapPeerNet peer_net{wire};
    std::mutex nodes_mutex;
    std::vector<std::unique_ptr<Node>> nodes;  // guarded by nodes_mutex while the owner thread runs
    // The nodes' owner, as dhtalk-node's main loop is: their ticks.
    std::atomic<bool> running{true};
    std::thread owner{[this] {
        while (running) {
            {
                std::lock_guard lock(nodes_mutex);
                for (auto& n : nodes) n->tick();
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
    }};

    NodeConfig config(size_t i) {
        NodeConfig c = front_end_config(dir / ("n" + std::to_string(i)));
        c.sms_file = dir / "codes.jsonl";  // whichever member is a number's registrar writes here
        c.roster_interval = std::chrono::milliseconds(200);
        if (i > 0) {
            c.genesis = false;
            c.apply = true;
            c.contact = "operator " + std::to_string(i);
            c.bootstrap = {"127.0.0.1:" + std::to_string(nodes[0]->runtime().peer_port)};
        }
        return c;
    }
    Node& open(size_t i) {
        NodeEnv env = system_node_env(clock);
        env.peer_net = &peer_net;
        env.open_datagram_socket = [this](const dht::SockAddr& bind4, const dht::SockAddr& bind6,
                                          std::shared_ptr<DatagramCounters> counters)
            -> Result<std::unique_ptr<dht::net::DatagramSocket>> {
            auto inner = open_udp_datagram_socket(bind4, bind6, std::move(counters));
            if (!inner) return inner.status();
            return std::unique_ptr<dht::net::DatagramSocket>(std::make_unique<TapSocket>(std::move(inner).value(), wire));
        };
        std::lock_guard lock(nodes_mutex);
        auto n = Node::open(config(i), env);
        REQUIRE_MESSAGE(n.is_ok(), n.status().to_string());
        nodes.push_back(std::move(n).value());
        return *nodes.back();
    }
    // Node i applies; every member before it approves.
    void admit(size_t i) {
        const std::string id = nodes[i]->runtime().node_id;
        for (size_t m = 0; m < i; ++m) {
            REQUIRE(test::wait_until([&] { return json::to_compact(nodes[m]->admin_pending().value()["pending"]).find(id) != std::string::npos; }, 20s));
            Json::Value v;
            v["change"] = "admit";
            v["decision"] = "approve";
            v["node_id"] = id;
            REQUIRE(nodes[m]->admin_vote(v));
        }
        REQUIRE(test::wait_until([&] { return nodes[i]->trust()->standing() == TrustedNetwork::Standing::kMember; }, 30s));
    }
    std::string endpoint(size_t i) { return "127.0.0.1:" + std::to_string(nodes[i]->client_port()); }
    std::string last_code(const std::string& phone) {
        std::ifstream in(dir / "codes.jsonl");
        std::string line, code;
        while (std::getline(in, line))
            if (auto j = json::parse_object(line); j && (*j)["phone"].asString() == phone) code = (*j)["code"].asString();
        return code;
    }
    std::unique_ptr<client::Client> user(const std::string& name, const std::string& phone, size_t node) {
        client::ClientOptions o;
        o.profile_dir = dir / name;
        o.nodes = {endpoint(node)};
        o.timeout = std::chrono::seconds(10);
        auto c = client::Client::open(o).value();
        REQUIRE(c->register_number(phone).is_ok());
        // A registrar on another node writes the code after it answers.
        REQUIRE(test::wait_until([&] { return !last_code(phone).empty(); }, std::chrono::seconds(10)));
        Status verified = c->verify(last_code(phone));
        REQUIRE_MESSAGE(verified.is_ok(), verified.to_string());
        REQUIRE(c->publish_keys().is_ok());
        return c;
    }
    ~TappedNetwork() {
        running = false;
        owner.join();  // the nodes are this thread's from here on
        for (auto& n : nodes) n->stop().ignore_error();
    }
};

}  // namespace

TEST_CASE("no datagram and no peer request between nodes carries a message's text") {
    TappedNetwork net;
    net.open(0);
    for (size_t i = 1; i < 3; ++i) {
        net.open(i);
        net.admit(i);
    }
    REQUIRE(test::wait_until([&] { return net.nodes[0]->status().peers_ipv4 >= 2; }, 30s));
    auto alice = net.user("alice", "+15555245554", 0);
    auto bob = net.user("bob", "+15555245555", 1);
    // Random, so that it cannot be there by chance.
    const std::string secret = "meet at noon " + crypto::to_hex(crypto::sha256(net.dir.path().string()));
    auto sent = alice->send_message(bob->profile().user_id, secret);
    REQUIRE_MESSAGE(sent.is_ok(), sent.status().to_string());
    auto got = bob->receive_messages();
    REQUIRE_MESSAGE(got.is_ok(), got.status().to_string());
    REQUIRE(got->messages.size() == 1);
    CHECK(got->messages.front().text == secret);

    // The tap saw the traffic: sealed datagrams, and the message held and
    // fetched between members under its id, which nodes do see.
    CHECK(net.wire.holding(net.wire.datagrams, "") > 10);
    CHECK(net.wire.holding(net.wire.peer, sent->id) >= 1);
    // Not the text, in any part of it long enough to mean something.
    CHECK(net.wire.holding(net.wire.datagrams, secret.substr(0, 24)) == 0);
    CHECK(net.wire.holding(net.wire.peer, secret.substr(0, 24)) == 0);
    CHECK(net.wire.holding(net.wire.datagrams, secret.substr(secret.size() - 24)) == 0);
    CHECK(net.wire.holding(net.wire.peer, secret.substr(secret.size() - 24)) == 0);
}
