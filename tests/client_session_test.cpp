// Sessions between a client and a front end, seen from both ends: idle and
// silent connections dropped, logins that stop being accepted, a privacy edit
// when the network fails to return the list, a client that checks its node
// and the records it receives against the roster it pinned, and pushes that
// come before a reply.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client/trusted_roster.h"
#include "tests/front_end_fixture.h"

using namespace dhtalk;
using namespace dhtalk::front_end_test;

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

// Pushes a frame to the session before it replies, as a node does when a
// watch brings a presence at once.
class PushFirstHandler final : public ClientHandler {
public:
    ClientServer* server = nullptr;
    Result<crypto::UserCertificateInfo> authenticate(const dht::crypto::Certificate&) override {
        return Status::denied("no logins here");
    }
    Status recheck(const crypto::UserCertificateInfo&) override { return Status::ok(); }
    void handle(const ClientSession& s, const ClientFrame& f, ClientReply reply) override {
        ClientFrame push;
        push.kind = "presence";
        push.params = {{"for", f.kind}};
        server->push(s.id, push);
        reply(ClientFrame::reply_to(0));
    }
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

TEST_CASE("a push that comes before a call's reply is kept for the caller, not dropped") {
    test::TempDir dir;
    auto identity = crypto::load_or_create_identity(dir / "id", 2048).value();
    PushFirstHandler handler;
    auto server = start_front_end(identity, handler);
    handler.server = server.get();
    auto conn = client::ClientConnection::open("127.0.0.1:" + std::to_string(server->port()),
                                               crypto::TlsCredentials::anonymous().value(), 5s)
                    .value();
    REQUIRE(call_status(*conn, "presence.watch").is_ok());
    REQUIRE(call_status(*conn, "again").is_ok());
    // Both pushes came before their replies (one frame each, in order on the
    // wire); receive() hands them over in that order.
    for (const char* method : {"presence.watch", "again"}) {
        auto pushed = conn->receive(5s);
        REQUIRE_MESSAGE(pushed.is_ok(), pushed.status().to_string());
        CHECK(pushed->kind == "presence");
        CHECK(pushed->text("for", 64).value() == method);
    }
}
