// The client front end of a real node (TLS on loopback, real OpenDHT, real
// RocksDB), driven through the client library: registration limits, logins
// that must be refused, requests that need a login or another user, frame
// bombs and malformed frames, connection limits, and values planted in the
// DHT by a stock OpenDHT peer that must never reach a client.
#include <opendht.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>

#include "common/json.h"
#include "crypto/signing.h"
#include "crypto/user_certificate.h"
#include "crypto/user_id.h"
#include "node/node.h"
#include "tests/dht_client.h"
#include "tests/test_util.h"
#include "tools/client.h"
#include "tools/trusted_roster.h"

#include <doctest/doctest.h>

using namespace dhtalk;
using namespace std::chrono_literals;

namespace {

struct TestNode {
    test::TempDir dir;
    SystemClock clock;
    std::unique_ptr<Node> node;
    std::string endpoint;

    explicit TestNode(bool open_network = false, size_t per_address = 64) {
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
        c.max_sessions_per_address = per_address;
        c.sms_file = dir / "codes.jsonl";
        auto n = Node::open(c, clock);
        REQUIRE_MESSAGE(n.is_ok(), n.status().to_string());
        node = std::move(n).value();
        endpoint = "127.0.0.1:" + std::to_string(node->client_port());
    }
    ~TestNode() { node->stop().ignore_error(); }

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
std::unique_ptr<ClientServer> start_front_end(const crypto::NodeIdentity& identity, ClientHandler& handler,
                                              ClientServerConfig c = {}) {
    c.bind = "127.0.0.1";
    auto cert = crypto::make_tls_certificate(identity, std::chrono::system_clock::now(), 1h).value();
    return ClientServer::start(c, crypto::TlsCredentials::with_certificate(*cert, *identity.key).value(), handler)
        .value();
}

// A user certificate (PEM) for `key`, as `issuer` issues it for `user` in `network` at `now`.
std::string issue_for(const crypto::NodeIdentity& issuer, const dht::crypto::PrivateKey& key, const std::string& user,
                      uint32_t network, std::chrono::system_clock::time_point now = std::chrono::system_clock::now()) {
    crypto::IssueRequest r;
    r.user_id = user;
    r.csr_pem = crypto::make_certificate_request(key, user).value();
    r.network_id = network;
    r.now = now;
    return crypto::issue_user_certificate(r, issuer).value();
}

Status call_status(client::ClientConnection& c, const std::string& method, FrameParams p = {}) {
    auto r = c.call(method, std::move(p), 10s);
    if (!r) return r.status();
    return r->status();
}

}  // namespace

TEST_CASE("a user registers, publishes a vCard and resolves it; requests are checked against the login") {
    TestNode n;
    auto alice = n.user("alice", "+15555245554");
    auto bob = n.user("bob", "+15555245555");
    REQUIRE(alice->set_vcard({"Alice", "here", "", "", ""}).is_ok());
    auto card = bob->vcard(crypto::derive_user_id("kontalk-sha1", "+15555245554").value());
    REQUIRE_MESSAGE(card.is_ok(), card.status().to_string());
    CHECK(card->name == "Alice");
    CHECK(card->encryption_key.find("BEGIN PUBLIC KEY") != std::string::npos);

    SUBCASE("records and lookups need a login") {
        auto anon = n.connect();
        CHECK(call_status(*anon, "get", {{"type", std::string("vcard")}, {"user_id", alice->profile().user_id}}).code() ==
              Code::kPermissionDenied);
        CHECK(call_status(*anon, "put", {{"record", std::string("x")}}).code() == Code::kPermissionDenied);
    }
    SUBCASE("a user cannot publish another user's record") {
        // Bob sends a record Alice signed: valid, but not his to publish.
        Record r;
        r.type = RecordType::kVCard;
        r.user_id = alice->profile().user_id;
        r.sequence = 99;
        r.expires_at_s = to_unix_seconds(std::chrono::system_clock::now()) + 3600;
        r.body = encode_vcard({"Mallory", "", "", "", ""});
        r.certificate = alice->profile().certificate;
        const std::string env = seal_record(r, *alice->profile().key).value();
        auto s = bob->call("put", {{"record", env}});
        CHECK(s.status().code() == Code::kPermissionDenied);
        CHECK(s.status().message().find("cannot publish") != std::string::npos);
    }
    SUBCASE("an unknown request and a bad user id get clear errors") {
        CHECK(alice->call("frobnicate", {}).status().message().find("unknown request") != std::string::npos);
        CHECK(alice->call("get", {{"type", std::string("vcard")}, {"user_id", std::string("nope")}}).status().code() ==
              Code::kInvalidArgument);
        CHECK(alice->call("get", {{"type", std::string("diary")}, {"user_id", alice->profile().user_id}}).status().code() ==
              Code::kInvalidArgument);
    }
}

TEST_CASE("registration: wrong codes and a flood from one address are refused") {
    TestNode n;
    auto c = n.connect();
    CHECK(call_status(*c, "register", {{"phone", std::string("+15555245554")}}).is_ok());
    auto key = crypto::generate_user_key().value();
    const std::string csr = crypto::make_certificate_request(*key, std::string(40, 'a')).value();
    const std::string wrong = n.last_code() == "000000" ? "000001" : "000000";
    auto s = call_status(*c, "verify", {{"phone", std::string("+15555245554")}, {"code", wrong}, {"csr", csr}});
    CHECK(s.code() == Code::kPermissionDenied);
    CHECK(call_status(*c, "register", {{"phone", std::string("not a number")}}).code() == Code::kInvalidArgument);

    int sent = 1;  // the one above
    Status last;
    for (int i = 0; i < 20; ++i) {
        last = call_status(*c, "register", {{"phone", "+1555000" + std::to_string(1000 + i)}});
        if (last) sent++;
    }
    // 1 code + 1 wrong code + 8 more codes spend the address's 10 attempts.
    CHECK(sent == 9);
    CHECK(last.code() == Code::kResourceExhausted);
}

TEST_CASE("logins with certificates from non-members, other networks or past their time are refused") {
    TestNode n;
    const uint32_t network = n.node->trust()->network_id();
    auto outsider = crypto::load_or_create_identity(n.dir / "outsider", 2048).value();
    auto self = crypto::load_or_create_identity(n.dir / "node" / "identity").value();
    auto login = [&](const crypto::NodeIdentity& issuer, uint32_t net, std::chrono::system_clock::time_point now) {
        auto key = crypto::generate_user_key().value();
        auto cert = crypto::parse_certificate(issue_for(issuer, *key, std::string(40, 'c'), net, now)).value();
        auto conn = client::ClientConnection::open(n.endpoint, crypto::TlsCredentials::with_certificate(*cert, *key).value(), 10s);
        if (!conn) return conn.status();
        return call_status(**conn, "hello");
    };
    const auto now = std::chrono::system_clock::now();
    CHECK(login(self, network, now).is_ok());
    auto s = login(outsider, network, now);
    CHECK(s.code() == Code::kPermissionDenied);
    CHECK(s.message().find("not a member") != std::string::npos);
    CHECK(login(self, network + 1, now).message().find("another network") != std::string::npos);
    CHECK(login(self, network, now - std::chrono::hours(24 * 400)).message().find("expired") != std::string::npos);
}

TEST_CASE("frame bombs and malformed frames close only their own session") {
    TestNode n;
    auto bystander = n.connect();
    REQUIRE(call_status(*bystander, "hello").is_ok());
    for (const std::string& bad : {std::string("\xff\xff\xff\xff", 4),               // declares 4 GiB
                                   std::string("\x00\x00\x00\x03" "abc", 7),         // not msgpack
                                   std::string("\x00\x00\x00\x02\x91\x07", 6),       // [7]: not a frame
                                   std::string("\x00\x00\x00\x07\x96\x09\x01\xa1x\x00\xa0", 11)}) {  // version 9
        auto c = n.connect();
        REQUIRE(c->send_raw(bad).is_ok());
        auto reply = c->receive(10s);
        CHECK(reply.status().code() == Code::kInvalidArgument);  // the node's error frame
        CHECK(c->receive(10s).status().code() == Code::kUnavailable);  // then it closes
    }
    CHECK(call_status(*bystander, "hello").is_ok());
    CHECK(n.node->status().client_refused >= 4);
}

TEST_CASE("sessions per address are bounded") {
    TestNode n(false, 3);
    std::vector<std::unique_ptr<client::ClientConnection>> held;
    for (int i = 0; i < 3; ++i) {
        held.push_back(n.connect());
        REQUIRE(call_status(*held.back(), "hello").is_ok());
    }
    auto extra = client::ClientConnection::open(n.endpoint, crypto::TlsCredentials::anonymous().value(), 10s);
    const bool refused = !extra || !call_status(**extra, "hello");
    CHECK(refused);
    held.pop_back();
    REQUIRE(test::wait_until([&] { return n.node->status().client_sessions == 2; }, 10s));
    CHECK(call_status(*n.connect(), "hello").is_ok());
}

TEST_CASE("values planted by a stock OpenDHT peer never reach a client (open network)") {
    TestNode n(/*open*/ true);
    auto alice = n.user("alice", "+15555245554");
    REQUIRE(alice->set_vcard({"Alice", "genuine", "", "", ""}).is_ok());
    const std::string victim = crypto::derive_user_id("kontalk-sha1", "+15555245559").value();

    test::TestClient stock(n.node->overlay()->network_id(), n.node->overlay()->port_ipv4());
    REQUIRE(stock.wait_peers(1));
    // A garbage record, and Alice's genuine record replayed under another user's key.
    const auto victim_key = record_key(RecordType::kVCard, victim);
    dht::Value garbage(record_value_type(RecordType::kVCard), dht::Blob{0x93, 0x01, 0x02, 0x03}, kRecordValueId);
    stock.put(victim_key, std::move(garbage));
    auto genuine = alice->call("get", {{"type", std::string("vcard")}, {"user_id", alice->profile().user_id}});
    REQUIRE(genuine.is_ok());
    const std::string env = genuine->text("record", kMaxRecordBytes).value();
    dht::Value replayed(record_value_type(RecordType::kVCard), dht::Blob(env.begin(), env.end()), kRecordValueId);
    stock.put(victim_key, std::move(replayed));
    // The planted values are in the network: a stock reader finds them...
    test::TestClient reader(n.node->overlay()->network_id(), n.node->overlay()->port_ipv4());
    REQUIRE(reader.wait_peers(1));
    CHECK(reader.get(victim_key).size() >= 1);
    // ...but no client ever gets them.
    auto planted = alice->vcard(victim);
    CHECK(planted.status().code() == Code::kNotFound);
    CHECK(n.node->status().records_refused >= 1);  // our node refused to store them
    CHECK(alice->vcard(alice->profile().user_id)->status == "genuine");
    reader.stop();
    stock.stop();
}

TEST_CASE("a network with a roster stores no value of OpenDHT's own types") {
    TestNode n(/*open*/ true);  // open, so that a stock peer can reach the overlay
    const auto before = n.node->status().values_refused;
    // A plain value, and one of OpenDHT's message types, each with a
    // record's value id, under users' record keys: squatting attempts.
    const auto plain_key = record_key(RecordType::kVCard, crypto::derive_user_id("kontalk-sha1", "+15555245560").value());
    const auto message_key = record_key(RecordType::kVCard, crypto::derive_user_id("kontalk-sha1", "+15555245561").value());
    {
        test::TestClient stock(n.node->overlay()->network_id(), n.node->overlay()->port_ipv4());
        REQUIRE(stock.wait_peers(1));
        // OpenDHT reports success to the writer even when refused; the put
        // returns once the node has answered.
        stock.put(plain_key, dht::Value(dht::ValueType::USER_DATA.id, dht::Blob{1, 2, 3}, kRecordValueId));
        stock.put(message_key, dht::Value(dht::ImMessage::TYPE.id, dht::Blob{4, 5, 6}, kRecordValueId));
        stock.stop();  // it holds its own copies
    }
    CHECK(n.node->status().values_refused >= before + 2);
    CHECK(n.node->overlay()->stats().values_stored == 0);
    test::TestClient reader(n.node->overlay()->network_id(), n.node->overlay()->port_ipv4());
    REQUIRE(reader.wait_peers(1));
    CHECK(reader.get(plain_key).empty());
    CHECK(reader.get(message_key).empty());
    reader.stop();
}

namespace {

// Answers every request at once; accepts no login.
class EchoHandler final : public ClientHandler {
public:
    Result<crypto::UserCertificateInfo> authenticate(const dht::crypto::Certificate&) override {
        return Status::denied("no logins here");
    }
    Status recheck(const crypto::UserCertificateInfo&) override { return Status::ok(); }
    void handle(const ClientSession&, const ClientFrame&, ClientReply reply) override { reply(ClientFrame::reply_to(0)); }
};

// A plain TCP connection that never speaks TLS: true once the server hangs up.
bool hung_up_within(uint16_t port, std::chrono::milliseconds timeout) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::close(fd);
        return false;
    }
    pollfd p{fd, POLLIN, 0};
    char c;
    const bool closed = ::poll(&p, 1, static_cast<int>(timeout.count())) == 1 && ::recv(fd, &c, 1, 0) == 0;
    ::close(fd);
    return closed;
}

}  // namespace

TEST_CASE("silent connections are dropped after the handshake or idle timeout") {
    test::TempDir dir;
    auto identity = crypto::load_or_create_identity(dir / "id", 2048).value();
    EchoHandler handler;
    ClientServerConfig c;
    c.handshake_timeout = 300ms;
    c.idle_timeout = 500ms;
    auto server = start_front_end(identity, handler, c);
    CHECK(hung_up_within(server->port(), 5s));  // never starts TLS

    auto conn = client::ClientConnection::open("127.0.0.1:" + std::to_string(server->port()),
                                               crypto::TlsCredentials::anonymous().value(), 5s)
                    .value();
    REQUIRE(call_status(*conn, "anything").is_ok());
    // Idle past the timeout: the next read sees the session closed.
    CHECK(conn->receive(5s).status().code() == Code::kUnavailable);
    CHECK(server->stats().sessions == 0);
    CHECK(server->stats().failed_handshakes >= 1);
}

namespace {

// A member node that has lost every record: it logs in any user
// certificate, takes every put and privacy list, answers every get "not
// found", and serves the roster it was given.
class ForgetfulHandler final : public ClientHandler {
public:
    std::vector<FrameParams> roster;  // the answers to "roster" from 0 on
    std::string forged_record;        // answered to every get, if set
    int sensitive_ = 0;               // register and verify requests received, guarded by mutex_
    int sensitive() {
        std::lock_guard lock(mutex_);
        return sensitive_;
    }
    Result<crypto::UserCertificateInfo> authenticate(const dht::crypto::Certificate& cert) override {
        return crypto::inspect_user_certificate(cert);
    }
    Status recheck(const crypto::UserCertificateInfo&) override { return Status::ok(); }
    void handle(const ClientSession&, const ClientFrame& f, ClientReply reply) override {
        if (f.kind == "get") {
            if (!forged_record.empty()) return reply(ClientFrame::reply_to(0, {{"record", forged_record}, {"sequence", uint64_t{1}}}));
            return reply(ClientFrame::error_reply(0, Status::not_found("no such record in the network")));
        }
        if (f.kind == "register" || f.kind == "verify") {
            std::lock_guard lock(mutex_);
            sensitive_++;
        }
        if (f.kind == "roster") {
            const uint64_t at = f.number("from").value();
            FrameParams p = roster.front();
            p.erase("epoch");
            return reply(ClientFrame::reply_to(0, at < roster.size() ? roster[at] : p));
        }
        if (f.kind == "privacy.set") {
            std::lock_guard lock(mutex_);
            enforced_ = f.list("blocked").value();
        }
        if (f.kind == "put") puts_++;
        reply(ClientFrame::reply_to(0));
    }
    std::vector<std::string> enforced() {
        std::lock_guard lock(mutex_);
        return enforced_;
    }
    std::atomic<int> puts_{0};

private:
    std::mutex mutex_;
    std::vector<std::string> enforced_;  // guarded by mutex_
};

// The member `real` runs, with its identity and roster, forgetting
// everything else; or, with `impostor`, a host with another key that serves
// the same roster (a man in the middle).
struct ForgetfulNode {
    ForgetfulHandler handler;
    std::unique_ptr<ClientServer> server;
    explicit ForgetfulNode(TestNode& real, const crypto::NodeIdentity* impostor = nullptr) {
        auto conn = real.connect();
        for (uint64_t at = 0;; ++at) {
            auto answer = conn->call("roster", {{"from", at}}, 10s).value();
            handler.roster.push_back(answer.params);
            if (at >= std::get<uint64_t>(answer.params.at("last"))) break;
        }
        server = start_front_end(
            impostor ? *impostor : crypto::load_or_create_identity(real.dir / "node" / "identity").value(), handler);
    }
    std::unique_ptr<client::Client> client_for(const std::filesystem::path& profile) {
        client::ClientOptions o;
        o.profile_dir = profile;
        o.nodes = {"127.0.0.1:" + std::to_string(server->port())};
        o.timeout = 10s;
        return client::Client::open(o).value();
    }
};

}  // namespace

TEST_CASE("a privacy edit starts from the profile's list, never from one the network failed to return") {
    TestNode n;
    const std::string bob = crypto::derive_user_id("kontalk-sha1", "+15555245555").value();
    const std::string carol = crypto::derive_user_id("kontalk-sha1", "+15555245556").value();
    {
        auto alice = n.user("alice", "+15555245554");
        auto list = alice->privacy();
        REQUIRE(list);
        CHECK(list->blocked.empty());  // a new user's list, known without asking the network
        list->blocked.push_back(bob);
        REQUIRE(alice->set_privacy(*list).is_ok());
    }
    ForgetfulNode forgetful(n);
    SUBCASE("the profile holds the list") {
        auto alice = forgetful.client_for(n.dir / "alice");
        auto list = alice->privacy();
        REQUIRE(list);
        CHECK(list->blocked == std::vector<std::string>{bob});  // before: empty, from the node's "not found"
        list->blocked.push_back(carol);
        REQUIRE(alice->set_privacy(*list).is_ok());
        CHECK(forgetful.handler.enforced() == std::vector<std::string>{bob, carol});  // Bob stays blocked
    }
    SUBCASE("a profile without its copy refuses to edit a list it could not read") {
        std::filesystem::remove(n.dir / "alice" / "privacy.list");
        auto alice = forgetful.client_for(n.dir / "alice");
        auto list = alice->privacy();
        REQUIRE_FALSE(list);
        CHECK(list.status().code() == Code::kUnavailable);
        CHECK(list.status().message().find("not changing it") != std::string::npos);
        CHECK(forgetful.handler.puts_ == 0);
        // Through a node that holds it, the list is read and kept again.
        client::ClientOptions o;
        o.profile_dir = n.dir / "alice";
        o.nodes = {n.endpoint};
        o.timeout = 10s;
        auto again = client::Client::open(o).value();
        auto read = again->privacy();
        REQUIRE(read);
        CHECK(read->blocked == std::vector<std::string>{bob});
        CHECK(std::filesystem::exists(n.dir / "alice" / "privacy.list"));
    }
}

namespace {

// Accepts any user certificate while `accepting` holds.
class RevocableHandler final : public ClientHandler {
public:
    Result<crypto::UserCertificateInfo> authenticate(const dht::crypto::Certificate& cert) override {
        return crypto::inspect_user_certificate(cert);
    }
    Status recheck(const crypto::UserCertificateInfo&) override {
        return accepting ? Status::ok() : Status::denied("the certificate's issuer is no longer a member");
    }
    void handle(const ClientSession&, const ClientFrame&, ClientReply reply) override { reply(ClientFrame::reply_to(0)); }
    std::atomic<bool> accepting{true};
};

}  // namespace

TEST_CASE("an open session ends once its login is no longer accepted") {
    test::TempDir dir;
    auto identity = crypto::load_or_create_identity(dir / "id", 2048).value();
    RevocableHandler handler;
    ClientServerConfig c;
    c.recheck_interval = 100ms;
    auto server = start_front_end(identity, handler, c);
    const std::string user = crypto::derive_user_id("kontalk-sha1", "+15555245554").value();
    auto key = crypto::generate_user_key().value();
    auto user_cert = crypto::parse_certificate(issue_for(identity, *key, user, 1)).value();
    auto conn = client::ClientConnection::open("127.0.0.1:" + std::to_string(server->port()),
                                               crypto::TlsCredentials::with_certificate(*user_cert, *key).value(), 5s)
                    .value();
    REQUIRE(call_status(*conn, "anything").is_ok());
    REQUIRE(test::wait_until([&] { return server->stats().logged_in == 1; }, 5s));
    handler.accepting = false;  // its issuer banned, or its certificate expired
    auto ended = conn->receive(10s);
    REQUIRE_FALSE(ended);
    CHECK(ended.status().code() == Code::kPermissionDenied);  // before: a timeout, the session still open
    CHECK(ended.status().message().find("session ended") != std::string::npos);
    CHECK(test::wait_until([&] { return server->stats().sessions == 0; }, 5s));
}

TEST_CASE("a client authenticates its node against the roster it pinned before it sends anything of the user's") {
    TestNode n;
    test::TempDir dir;
    const auto impostor = crypto::load_or_create_identity(dir / "impostor", 2048).value();
    ForgetfulNode mitm(n, &impostor);
    const std::string mitm_endpoint = "127.0.0.1:" + std::to_string(mitm.server->port());
    SUBCASE("a new profile: the impostor serves the genuine roster, but its key is no member's") {
        client::ClientOptions o;
        o.profile_dir = dir / "new";
        o.nodes = {mitm_endpoint};
        o.timeout = 10s;
        auto c = client::Client::open(o).value();
        auto refused = c->register_number("+15555245554");
        REQUIRE_FALSE(refused);
        CHECK(refused.status().code() == Code::kPermissionDenied);
        CHECK(refused.status().message().find("not a member") != std::string::npos);
        CHECK(mitm.handler.sensitive() == 0);  // the phone number never left the client
    }
    SUBCASE("a registered profile fails over past the impostor to a member") {
        auto alice = n.user("alice", "+15555245554");
        REQUIRE(alice->set_vcard({"Alice", "here", "", "", ""}).is_ok());
        client::ClientOptions o;
        o.profile_dir = n.dir / "alice";
        o.nodes = {mitm_endpoint, n.endpoint};
        o.timeout = 10s;
        auto again = client::Client::open(o).value();
        auto card = again->vcard(alice->profile().user_id);
        REQUIRE(card);
        CHECK(again->node() == n.endpoint);
        CHECK(again->network_name() == "front-end-test");
        CHECK(std::filesystem::exists(n.dir / "alice" / "roster.epoch"));
    }
}

TEST_CASE("a record whose certificate no member issued is refused by the client, from any node") {
    TestNode n;
    auto alice = n.user("alice", "+15555245554");
    // A vCard for Bob, signed by a key whose certificate an outsider issued.
    test::TempDir dir;
    const auto outsider = crypto::load_or_create_identity(dir / "outsider", 2048).value();
    const std::string bob = crypto::derive_user_id("kontalk-sha1", "+15555245555").value();
    auto key = crypto::generate_user_key().value();
    Record forged;
    forged.type = RecordType::kVCard;
    forged.user_id = bob;
    forged.sequence = 1;
    forged.expires_at_s = to_unix_seconds(std::chrono::system_clock::now()) + 3600;
    forged.body = encode_vcard({"Bob", "forged", "", "", ""});
    forged.certificate = issue_for(outsider, *key, bob, alice->profile().network_id);
    ForgetfulNode rogue(n);  // a member that hands out forged records
    rogue.handler.forged_record = seal_record(forged, *key).value();
    client::ClientOptions o;
    o.profile_dir = n.dir / "alice";
    o.nodes = {"127.0.0.1:" + std::to_string(rogue.server->port())};
    o.timeout = 10s;
    auto via_rogue = client::Client::open(o).value();
    auto card = via_rogue->vcard(bob);
    REQUIRE_FALSE(card);
    CHECK(card.status().message().find("not a member") != std::string::npos);  // before: Bob's "forged" vCard
}

TEST_CASE("a kept roster names its own network, so a profile saved before its network id resumes") {
    TestNode n;
    auto conn = n.connect();
    auto answer = conn->call("roster", {{"from", uint64_t{0}}}, 10s).value();
    const std::string genesis = answer.text("epoch", kMaxDocumentBytes).value();
    auto kept = client::TrustedRoster::resume(genesis, 0);
    REQUIRE(kept);
    CHECK(kept->network_id() == n.node->trust()->network_id());
    CHECK(client::TrustedRoster::resume(genesis, n.node->trust()->network_id() + 1).status().code() == Code::kCorruption);
}
