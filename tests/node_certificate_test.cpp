// The certificate a node presents to its clients (crypto/user_certificate.h,
// make_tls_certificate; client/trusted_roster.h, member_for): one for the
// node's Ed25519 fast key, issued by a current member's identity and valid
// now; anything else is refused. TLS 1.3 resumption: a client that comes
// back skips the signatures and is still logged in as its user. And the
// node renews that certificate while it runs.
#include "client/trusted_roster.h"
#include "crypto/fast_key.h"
#include "testing/memory_node_env.h"
#include "tests/front_end_fixture.h"

using namespace dhtalk;
using namespace dhtalk::front_end_test;

namespace {

client::TrustedRoster roster_of(TestNode& n) {
    auto conn = n.connect();
    auto answer = conn->call("roster", {{"from", uint64_t{0}}}, 10s).value();
    return client::TrustedRoster::resume(answer.text("epoch", kMaxDocumentBytes).value(), 0).value();
}

std::string refusal(const client::TrustedRoster& roster, const dht::crypto::Certificate& cert) {
    auto member = roster.member_for(cert, std::chrono::system_clock::now());
    CHECK(member.status().code() == Code::kPermissionDenied);
    return member.status().message();
}

}  // namespace

TEST_CASE("a client accepts only a fast-key certificate that a current member issued and that is valid now") {
    TestNode n;
    const auto roster = roster_of(n);
    const auto member = crypto::load_or_create_identity(n.dir / "node" / "identity").value();
    const auto now = std::chrono::system_clock::now();

    auto genuine = crypto::make_tls_certificate(member, now, 1h).value();
    auto accepted = roster.member_for(*genuine, now);
    REQUIRE_MESSAGE(accepted, accepted.status().to_string());
    CHECK(*accepted == member.node_id_hex());
    // And the live node presents such a certificate.
    auto conn = n.connect();
    accepted = roster.member_for(*conn->peer_certificate(), now);
    REQUIRE_MESSAGE(accepted, accepted.status().to_string());
    CHECK(*accepted == member.node_id_hex());

    SUBCASE("issued by a node that is not a member") {
        test::TempDir dir;
        const auto outsider = crypto::load_or_create_identity(dir / "outsider", 2048).value();
        auto cert = crypto::make_tls_certificate(outsider, now, 1h).value();
        CHECK(test::contains(refusal(roster, *cert), "not one of the 1 members"));
    }
    SUBCASE("naming a member as its issuer, signed by another key") {
        test::TempDir dir;
        const auto outsider = crypto::load_or_create_identity(dir / "outsider", 2048).value();
        crypto::NodeIdentity forger = outsider;
        forger.certificate = member.certificate;  // the member's name and id, the outsider's signature
        auto cert = crypto::make_tls_certificate(forger, now, 1h).value();
        CHECK(test::contains(refusal(roster, *cert), "not signed by the member"));
    }
    SUBCASE("an uncertified fast key: the member's own, signing its certificate itself") {
        auto cert = dht::crypto::Certificate::generate(*member.fast_key, "dhtalk node", {}, false);
        CHECK(test::contains(refusal(roster, cert), "names no issuing node"));
    }
    SUBCASE("expired") {
        auto cert = crypto::make_tls_certificate(member, now - 2h, 1h).value();
        CHECK(test::contains(refusal(roster, *cert), "not valid now"));
    }
    SUBCASE("not yet valid") {
        auto cert = crypto::make_tls_certificate(member, now + 1h, 1h).value();
        CHECK(test::contains(refusal(roster, *cert), "not valid now"));
    }
    SUBCASE("for the member's RSA identity key, as a node of an older dhtalk presented") {
        crypto::NodeIdentity old = member;
        old.fast_key = member.key;
        auto cert = crypto::make_tls_certificate(old, now, 1h).value();
        CHECK(test::contains(refusal(roster, *cert), "not for an Ed25519 fast key"));
    }
}

TEST_CASE("a client that comes back resumes its TLS session and is still logged in as its user") {
    TestNode n;
    auto alice = n.user("alice", "+15555245554");
    auto cert = crypto::parse_certificate(alice->profile().certificate).value();
    auto creds = crypto::TlsCredentials::with_certificate(*cert, *alice->profile().key).value();

    auto first = n.connect(creds);
    CHECK_FALSE(first->resumed());
    auto hello = first->call("hello", {}, 10s).value();  // receiving brings the ticket
    CHECK(hello.text("user_id", 64).value() == alice->profile().user_id);
    REQUIRE_FALSE(creds->session_for(n.endpoint).empty());

    auto second = n.connect(creds);
    CHECK(second->resumed());
    hello = second->call("hello", {}, 10s).value();
    CHECK(hello.text("user_id", 64).value() == alice->profile().user_id);
    // The node's certificate is known on the resumed session too.
    const auto member = crypto::load_or_create_identity(n.dir / "node" / "identity").value();
    REQUIRE(second->peer_certificate());
    CHECK(roster_of(n).member_for(*second->peer_certificate(), std::chrono::system_clock::now()).value() ==
          member.node_id_hex());

    SUBCASE("a ticket from another node's front end is not taken: a full handshake") {
        TestNode other;
        auto theirs = other.connect(creds);  // alice is no user of this network: no login, but a handshake
        CHECK_FALSE(theirs->resumed());
        // Offer the first node's ticket to the other node.
        creds->remember_session(other.endpoint, creds->session_for(n.endpoint));
        auto offered = other.connect(creds);
        CHECK_FALSE(offered->resumed());
    }
}

TEST_CASE("a node whose fast key is not the one its roster lists refuses to start, and says why") {
    TestNode n;
    REQUIRE(n.node->stop().is_ok());
    n.node.reset();
    std::filesystem::remove(n.dir / "node" / "identity" / "fast.key");  // lost; a new one would be made
    SystemClock clock;
    auto again = Node::open(front_end_config(n.dir.path()), system_node_env(clock));
    REQUIRE_FALSE(again);
    CHECK(again.status().code() == Code::kCorruption);
    CHECK(test::contains(again.status().message(), "not the fast key the roster lists"));
}

TEST_CASE("a node renews its TLS certificate halfway through its validity; open sessions keep theirs") {
    test::TempDir dir;
    ManualClock clock(std::chrono::steady_clock::now(), std::chrono::system_clock::now());
    test::MemoryNodeEnv memory(clock);
    auto node = Node::open(front_end_config(dir.path()), memory.env()).value();
    const std::string endpoint = "127.0.0.1:" + std::to_string(node->client_port());
    auto first_session = client::ClientConnection::open(endpoint, crypto::TlsCredentials::anonymous().value(), 10s).value();
    const auto first = crypto::inspect_tls_certificate(*first_session->peer_certificate()).value();
    CHECK(first.not_after_s - first.not_before_s == std::chrono::seconds(kTlsCertificateValidity).count() + 300);

    // A minute before halfway: the same certificate. (Sessions idle this
    // long have been closed; the one opened now stays open.)
    clock.advance(kTlsCertificateValidity / 2 - std::chrono::minutes(1));
    node->tick();
    auto before = client::ClientConnection::open(endpoint, crypto::TlsCredentials::anonymous().value(), 10s).value();
    CHECK(crypto::inspect_tls_certificate(*before->peer_certificate()).value().not_after_s == first.not_after_s);

    clock.advance(std::chrono::minutes(2));
    node->tick();
    auto after = client::ClientConnection::open(endpoint, crypto::TlsCredentials::anonymous().value(), 10s).value();
    const auto renewed = crypto::inspect_tls_certificate(*after->peer_certificate()).value();
    CHECK(renewed.not_after_s > first.not_after_s);
    CHECK(renewed.not_before_s >= first.not_before_s + std::chrono::seconds(kTlsCertificateValidity / 2).count());
    CHECK(call_status(*before, "hello").is_ok());  // the session opened before the renewal goes on
    REQUIRE(node->stop().is_ok());
}
