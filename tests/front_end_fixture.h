#pragma once
// A real node's client front end on loopback (TLS, OpenDHT, RocksDB) and the
// helpers its tests share: users registered through the client library,
// raw sessions, hand-issued user certificates.
#include <fstream>

#include "common/json.h"
#include "crypto/signing.h"
#include "crypto/user_certificate.h"
#include "crypto/user_id.h"
#include "node/node.h"
#include "testing/test_util.h"
#include "client/client.h"

#include "tests/doctest.h"

namespace dhtalk::front_end_test {

using namespace std::chrono_literals;

// A founding node on loopback, every port picked free, its data under `dir`.
inline NodeConfig front_end_config(const std::filesystem::path& dir, bool open_network = false) {
    NodeConfig c;
    c.data_dir = dir / "node";
    c.network = "front-end-test";
    c.bind = "127.0.0.1";
    c.dht_port = 0;
    c.http_port = 0;
    c.client_port = 0;
    c.client_bind = "127.0.0.1";
    c.genesis = true;  // clients pin the roster, so even an open network has one
    c.open = open_network;
    c.sms_file = dir / "codes.jsonl";
    return c;
}

struct TestNode {
    test::TempDir dir;
    SystemClock clock;
    std::unique_ptr<Node> node;
    std::string endpoint;

    // `adjust` changes the configuration before the node opens.
    explicit TestNode(bool open_network = false, size_t per_address = 64,
                      const std::function<void(NodeConfig&)>& adjust = {}) {
        NodeConfig c = front_end_config(dir.path(), open_network);
        c.max_sessions_per_address = per_address;
        if (adjust) adjust(c);
        auto n = Node::open(c, system_node_env(clock));
        REQUIRE_MESSAGE(n.is_ok(), n.status().to_string());
        node = std::move(n).value();
        endpoint = "127.0.0.1:" + std::to_string(node->client_port());
    }
    ~TestNode() {
        if (node) node->stop().ignore_error();
    }

    std::string last_code() {
        std::ifstream in(dir / "codes.jsonl");
        std::string line, code;
        while (std::getline(in, line)) code = json::parse_object(line).value()["code"].asString();
        return code;
    }
    std::unique_ptr<client::ClientConnection> connect(std::shared_ptr<crypto::TlsCredentials> creds = nullptr) {
        if (!creds) creds = crypto::TlsCredentials::anonymous().value();
        auto c = client::ClientConnection::open(endpoint, creds, 10s);
        REQUIRE_MESSAGE(c.is_ok(), c.status().to_string());
        return std::move(c).value();
    }
    std::unique_ptr<client::Client> user(const std::string& name, const std::string& phone) {
        client::ClientOptions o;
        o.profile_dir = dir / name;
        o.nodes = {endpoint};
        o.timeout = 10s;
        auto c = client::Client::open(o).value();
        REQUIRE(c->register_number(phone).is_ok());
        Status verified = c->verify(last_code());
        REQUIRE_MESSAGE(verified.is_ok(), verified.to_string());
        return c;
    }
};

// A front end on loopback for `handler`, with a TLS certificate of `identity`.
inline std::unique_ptr<ClientServer> start_front_end(const crypto::NodeIdentity& identity, ClientHandler& handler,
                                              ClientServerConfig c = {}) {
    c.bind = "127.0.0.1";
    auto cert = crypto::make_tls_certificate(identity, std::chrono::system_clock::now(), 1h).value();
    static const SystemClock clock;
    return ClientServer::start(c, crypto::TlsCredentials::with_certificate(*cert, *identity.fast_key).value(), handler,
                               clock)
        .value();
}

// A user certificate (PEM) for `key`, as `issuer` issues it for `user` in `network` at `now`.
inline std::string issue_for(const crypto::NodeIdentity& issuer, const dht::crypto::PrivateKey& key, const std::string& user,
                      uint32_t network, std::chrono::system_clock::time_point now = std::chrono::system_clock::now()) {
    crypto::IssueRequest r;
    r.user_id = user;
    r.csr_pem = crypto::make_certificate_request(key, user).value();
    r.network_id = network;
    r.now = now;
    return crypto::issue_user_certificate(r, issuer).value();
}

inline Status call_status(client::ClientConnection& c, const std::string& method, FrameParams p = {}) {
    auto r = c.call(method, std::move(p), 10s);
    if (!r) return r.status();
    return r->status();
}

}  // namespace dhtalk::front_end_test
