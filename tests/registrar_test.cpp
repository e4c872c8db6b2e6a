// Registrars: each number's codes are sent and checked by one member, chosen
// from the roster, so a number's limits hold network-wide. Real members on
// loopback: node identities, peer services over HTTP, the file provider.
#include "tests/doctest.h"
#include <httplib.h>

#include <fstream>
#include <future>

#include "common/json.h"
#include "crypto/fast_key.h"
#include "crypto/fast_seal.h"
#include "crypto/signing.h"
#include "crypto/user_id.h"
#include "node/http_listener.h"
#include "node/front/registrar.h"
#include "storage/memory_store.h"
#include "testing/test_util.h"

using namespace dhtalk;
using namespace std::chrono;

namespace {

constexpr uint32_t kNetwork = 77;

std::string user_of(const std::string& e164) { return crypto::derive_user_id("kontalk-sha1", e164).value(); }

// A member: identity, peer service, registrar writing its codes to a file.
struct TestMember {
    TestMember(const test::TempDir& dir, const std::string& name)
        : identity(crypto::load_or_create_identity(dir / name, 2048).value()), codes(dir / (name + "-codes.jsonl")) {
        RegistrarConfig c;
        c.network_id = kNetwork;
        c.store = &store;
        registrar = std::make_unique<Registrar>(c, identity, std::make_unique<FileSender>(codes, clock), clock, drivers,
                                                tcp_peer_net());
        peers = PeerService::start(tcp_peer_net(), "127.0.0.1", 0, clock).value();
        peers->attach_registrar(registrar.get());
    }
    ~TestMember() {
        peers->stop();
        registrar->stop();
    }
    RegistrarPeer peer() const {
        return {identity.node_id_hex(), "127.0.0.1:" + std::to_string(peers->port()), identity.fast_public};
    }
    // The codes this member's provider has sent to `e164` so far.
    std::vector<std::string> sent_to(const std::string& e164) const {
        std::ifstream in(codes);
        std::string line;
        std::vector<std::string> out;
        while (std::getline(in, line)) {
            auto j = json::parse_object(line);
            if (j && (*j)["phone"].asString() == e164) out.push_back((*j)["code"].asString());
        }
        return out;
    }
    // The `nth` code (from 1) sent to `e164`, once the provider has it: a
    // registrar answers when the code is queued, not yet written.
    std::string code_for(const std::string& e164, size_t nth = 1) const {
        REQUIRE(test::wait_until([&] { return sent_to(e164).size() >= nth; }, 10s));
        return sent_to(e164)[nth - 1];
    }

    SystemClock clock;
    ThreadDrivers drivers{clock};
    MemoryStore store;
    crypto::NodeIdentity identity;
    std::filesystem::path codes;
    std::unique_ptr<Registrar> registrar;
    std::unique_ptr<PeerService> peers;
};

// Waits for one `done` of a registrar call.
Status outcome(const std::function<void(Registrar::Done)>& call) {
    auto p = std::make_shared<std::promise<Status>>();
    auto f = p->get_future();
    call([p](Status s) { p->set_value(std::move(s)); });
    REQUIRE(f.wait_for(30s) == std::future_status::ready);
    return f.get();
}

Status ask_code(TestMember& via, const std::string& e164, const std::string& address) {
    return outcome([&](Registrar::Done d) { via.registrar->request_code(e164, user_of(e164), address, std::move(d)); });
}

Status check(TestMember& via, const std::string& e164, const std::string& code, const std::string& address) {
    return outcome([&](Registrar::Done d) { via.registrar->check_code(user_of(e164), code, address, std::move(d)); });
}

// A number starting with `prefix` whose registrar among `members` is
// `registrar` (and, if given, whose stand-in is `second`).
std::string number_ranked(const std::vector<RegistrarPeer>& members, const std::string& registrar,
                          const std::string& second = {}, const std::string& prefix = "+1555") {
    for (int i = 0; i < 10000; ++i) {
        const std::string e164 = prefix + std::to_string(1000000 + i);
        auto ranked = rank_registrars(user_of(e164), members, 2);
        if (ranked[0].node_id == registrar && (second.empty() || ranked[1].node_id == second)) return e164;
    }
    FAIL("no number ranks as asked");
    return {};
}

std::string wrong_code(const std::string& right) { return right == "000000" ? "000001" : "000000"; }

struct RegistrarNetwork {
    test::TempDir dir;
    TestMember a{dir, "a"}, b{dir, "b"}, c{dir, "c"};
    std::vector<RegistrarPeer> members{a.peer(), b.peer(), c.peer()};
    RegistrarNetwork() {
        for (TestMember* m : {&a, &b, &c}) m->registrar->attach_members([this] { return members; });
    }
};

// A request as member `from` would send it to `to`, signed.
RegistrarRequest request(const TestMember& from, const TestMember& to, RegistrarRequest::Kind kind, const std::string& e164,
                         const std::string& secret) {
    RegistrarRequest r;
    r.kind = kind;
    r.network_id = kNetwork;
    r.from = from.identity.node_id_hex();
    r.to = to.identity.node_id_hex();
    r.user_id = user_of(e164);
    r.address = "192.0.2.1";
    r.sent_ms = to_unix_millis(std::chrono::system_clock::now());
    static int requests = 0;  // each request its own nonce
    r.nonce = std::to_string(1000000000000000 + requests++);
    r.sealed = crypto::seal_to_fast_key(to.identity.fast_public, kRegistrarSealPurpose, secret).value();
    r.signature = crypto::sign(*from.identity.fast_key, body_of(r)).value();
    return r;
}

void resign(RegistrarRequest& r, const TestMember& by) { r.signature = crypto::sign(*by.identity.fast_key, body_of(r)).value(); }

}  // namespace

TEST_CASE("every member ranks the same registrar, and a member leaving moves only its own numbers") {
    std::vector<RegistrarPeer> five;
    for (int i = 0; i < 5; ++i) five.push_back({std::string(40, static_cast<char>('a' + i)), "", {}});
    std::vector<RegistrarPeer> four(five.begin(), five.end() - 1);  // 'e' left
    std::vector<RegistrarPeer> shuffled{five[3], five[0], five[4], five[2], five[1]};
    size_t moved = 0, e_had = 0;
    std::map<std::string, int> load;
    for (int i = 0; i < 1000; ++i) {
        const std::string user = user_of("+1555" + std::to_string(2000000 + i));
        const auto before = rank_registrars(user, five, 2);
        REQUIRE(before.size() == 2);
        CHECK(before[0].node_id != before[1].node_id);
        CHECK(rank_registrars(user, shuffled, 2)[0].node_id == before[0].node_id);  // the order given does not matter
        const auto after = rank_registrars(user, four, 1);
        if (before[0].node_id == five[4].node_id) {
            e_had++;
            CHECK(after[0].node_id == before[1].node_id);  // its stand-in takes over
        } else if (after[0].node_id != before[0].node_id) {
            moved++;
        }
        load[before[0].node_id]++;
    }
    CHECK(moved == 0);
    CHECK(e_had > 100);  // about 200 of 1000
    for (const auto& [node, count] : load) CHECK(count > 120);
}

TEST_CASE("a code asked through any member is sent by the registrar and verified there; guesses through all members share one budget") {
    RegistrarNetwork n;
    const std::string e164 = number_ranked(n.members, n.c.identity.node_id_hex());

    REQUIRE(ask_code(n.a, e164, "198.51.100.1").is_ok());
    const std::string code = n.c.code_for(e164);
    REQUIRE(code.size() == 6);
    CHECK(n.a.sent_to(e164).empty());  // the serving member never sends it
    // Four wrong guesses through two members from two addresses: the number's
    // budget, wherever they were made. (Per-node limits allowed four at each.)
    CHECK(check(n.a, e164, wrong_code(code), "198.51.100.1").code() == Code::kPermissionDenied);
    CHECK(check(n.a, e164, wrong_code(code), "198.51.100.1").code() == Code::kPermissionDenied);
    REQUIRE(ask_code(n.b, e164, "198.51.100.2").is_ok());
    const std::string second = n.c.code_for(e164, 2);
    CHECK(check(n.b, e164, wrong_code(second), "198.51.100.2").code() == Code::kPermissionDenied);
    CHECK(check(n.b, e164, wrong_code(second), "198.51.100.2").code() == Code::kPermissionDenied);
    const Status fifth = check(n.a, e164, second, "198.51.100.3");
    CHECK(fifth.code() == Code::kResourceExhausted);
    CHECK(fifth.message().find("too many wrong codes") != std::string::npos);

    // A right code verifies through another member than the one that asked, once.
    const std::string other = number_ranked(n.members, n.b.identity.node_id_hex(), {}, "+1666");
    REQUIRE(ask_code(n.a, other, "198.51.100.4").is_ok());
    const std::string right = n.b.code_for(other);
    CHECK(check(n.c, other, right, "198.51.100.4").is_ok());
    CHECK(check(n.c, other, right, "198.51.100.4").code() == Code::kNotFound);
}

TEST_CASE("when the registrar cannot be reached its stand-in sends and checks the code") {
    RegistrarNetwork n;
    const std::string e164 = number_ranked(n.members, n.c.identity.node_id_hex(), n.b.identity.node_id_hex());
    n.c.peers->stop();
    REQUIRE(ask_code(n.a, e164, "198.51.100.1").is_ok());
    const std::string code = n.b.code_for(e164);
    CHECK(n.c.sent_to(e164).empty());
    REQUIRE(code.size() == 6);
    CHECK(check(n.a, e164, code, "198.51.100.1").is_ok());
}

TEST_CASE("a code the stand-in sent while the registrar could not be reached is checked there once the registrar is back") {
    RegistrarNetwork n;
    const std::string e164 = number_ranked(n.members, n.c.identity.node_id_hex(), n.b.identity.node_id_hex());
    // c cannot be reached while the code is asked for (nothing listens on port 1).
    const std::string c_endpoint = n.members[2].endpoint;
    n.members[2].endpoint = "127.0.0.1:1";
    REQUIRE(ask_code(n.a, e164, "198.51.100.1").is_ok());
    const std::string code = n.b.code_for(e164);
    n.members[2].endpoint = c_endpoint;

    // c answers that no code waits; b has it. A wrong code ends at b.
    const Status wrong = check(n.a, e164, wrong_code(code), "198.51.100.1");
    CHECK(wrong.code() != Code::kNotFound);
    CHECK_FALSE(wrong.is_ok());
    // Through c itself, which finds none here and asks its stand-in.
    CHECK(check(n.c, e164, code, "198.51.100.1").is_ok());
    CHECK(n.c.sent_to(e164).empty());
    // Used: neither has one now; with the stand-in out of reach, c says so
    // itself rather than that no registrar can be reached.
    CHECK(check(n.c, e164, code, "198.51.100.1").code() == Code::kNotFound);
    n.members[1].endpoint = "127.0.0.1:1";
    CHECK(check(n.c, e164, code, "198.51.100.1").code() == Code::kNotFound);
}

TEST_CASE("a registrar that refuses a request is not passed over: its stand-in is not asked") {
    RegistrarNetwork n;
    const std::string e164 = number_ranked(n.members, n.c.identity.node_id_hex(), n.b.identity.node_id_hex());
    // c's roster lags: it does not know a yet, and refuses a's request.
    std::vector<RegistrarPeer> without_a{n.b.peer(), n.c.peer()};
    n.c.registrar->attach_members([without_a] { return without_a; });
    const Status refused = ask_code(n.a, e164, "198.51.100.1");
    CHECK(refused.code() == Code::kUnavailable);
    CHECK(refused.message().find("not a current member") != std::string::npos);
    CHECK(n.b.sent_to(e164).empty());
    CHECK(n.c.sent_to(e164).empty());
}

TEST_CASE("the serving member bounds each client address itself") {
    RegistrarNetwork n;
    // Ten codes for ten numbers through member a from one address, whoever
    // their registrars are: the eleventh is refused by a.
    int sent = 0;
    Status last;
    for (int i = 0; i < 12; ++i) {
        last = ask_code(n.a, "+1777" + std::to_string(1000000 + i), "203.0.113.9");
        if (last) sent++;
    }
    CHECK(sent == 10);
    CHECK(last.code() == Code::kResourceExhausted);
}

TEST_CASE("a registrar refuses requests it cannot trust, and answers each good one with a signed verdict") {
    RegistrarNetwork n;
    test::TempDir other_dir;
    TestMember stranger(other_dir, "stranger");
    const std::string e164 = "+15551230000";
    auto refused = [&](const RegistrarRequest& r) { return n.c.registrar->on_registrar_request(encode(r)).status(); };

    auto good = request(n.a, n.c, RegistrarRequest::Kind::kCode, e164, e164);
    auto answer = n.c.registrar->on_registrar_request(encode(good));
    REQUIRE(answer.is_ok());
    auto verdict = decode_registrar_verdict(*answer).value();
    CHECK(verdict.code == Code::kOk);
    CHECK(verdict.request_digest == crypto::sha256(encode(good)));
    CHECK(crypto::verify_fast(n.c.identity.fast_public, body_of(verdict), verdict.signature));
    CHECK(n.c.registrar->on_registrar_request(encode(good)).status().message().find("replay") != std::string::npos);
    // The same request written another way (the version as a two-byte
    // integer) is still the same request.
    std::string reencoded = encode(good);
    REQUIRE(reencoded[1] == '\x03');
    reencoded.replace(1, 1, "\xcc\x03");
    REQUIRE(decode_registrar_request(reencoded).is_ok());
    CHECK(n.c.registrar->on_registrar_request(reencoded).status().message().find("replay") != std::string::npos);
    // Versions 1 (RSA signatures) and 2 (sealed to the RSA node key), an
    // older dhtalk's, are refused.
    for (char version : {'\x01', '\x02'}) {
        std::string old_version = encode(good);
        old_version[1] = version;
        CHECK(decode_registrar_request(old_version).status().code() == Code::kInvalidArgument);
        CHECK_FALSE(n.c.registrar->on_registrar_request(old_version));
    }

    CHECK(refused(request(stranger, n.c, RegistrarRequest::Kind::kCode, e164, e164)).code() == Code::kPermissionDenied);
    auto forged = request(n.a, n.c, RegistrarRequest::Kind::kCode, e164, e164);
    resign(forged, n.b);  // signed by another member than it claims
    CHECK(refused(forged).code() == Code::kPermissionDenied);
    auto stale = request(n.a, n.c, RegistrarRequest::Kind::kCode, e164, e164);
    stale.sent_ms -= 600000;
    resign(stale, n.a);
    CHECK(refused(stale).message().find("away from this node's clock") != std::string::npos);
    auto elsewhere = request(n.a, n.b, RegistrarRequest::Kind::kCode, e164, e164);
    CHECK(refused(elsewhere).message().find("for another node") != std::string::npos);
    auto other_network = request(n.a, n.c, RegistrarRequest::Kind::kCode, e164, e164);
    other_network.network_id = kNetwork + 1;
    resign(other_network, n.a);
    CHECK(refused(other_network).message().find("another network") != std::string::npos);
    auto mismatched = request(n.a, n.c, RegistrarRequest::Kind::kCode, e164, "+15551239999");
    CHECK(refused(mismatched).message().find("not the user id's") != std::string::npos);
    auto sealed_elsewhere = request(n.a, n.c, RegistrarRequest::Kind::kCode, e164, e164);
    sealed_elsewhere.sealed = crypto::seal_to_fast_key(n.b.identity.fast_public, kRegistrarSealPurpose, e164).value();
    resign(sealed_elsewhere, n.a);
    CHECK(refused(sealed_elsewhere).message().find("sealed to another key") != std::string::npos);
    auto long_code = request(n.a, n.c, RegistrarRequest::Kind::kCheck, e164, "1234567");
    CHECK(refused(long_code).code() == Code::kInvalidArgument);
    std::string trailing = encode(request(n.a, n.c, RegistrarRequest::Kind::kCode, e164, e164)) + "x";
    CHECK(n.c.registrar->on_registrar_request(trailing).status().message().find("trailing") != std::string::npos);
}

TEST_CASE("a verdict the registrar did not sign for this very request is refused by the asking member") {
    test::TempDir dir;
    TestMember a(dir, "a");
    TestMember x(dir, "x");  // the registrar as the roster names it
    TestMember y(dir, "y");  // someone else's key
    // x's address answers with verdicts of our choosing.
    RegistrarVerdict served;
    served.network_id = kNetwork;
    served.from = x.identity.node_id_hex();
    served.code = Code::kOk;
    bool signed_by_y = false;
    httplib::Server fake;
    std::mutex mutex;
    fake.Post("/v1/registrar", [&](const httplib::Request& req, httplib::Response& res) {
        std::lock_guard lock(mutex);
        RegistrarVerdict v = served;
        if (v.request_digest.empty()) v.request_digest = crypto::sha256(req.body);
        v.signature = crypto::sign(signed_by_y ? *y.identity.fast_key : *x.identity.fast_key, body_of(v)).value();
        res.set_content(encode(v), "application/msgpack");
    });
    const int port = fake.bind_to_any_port("127.0.0.1");
    HttpListener listener;  // stops the fake when the test ends, a REQUIRE or not
    listener.start(fake, "fake registrar");
    RegistrarPeer fake_x{x.identity.node_id_hex(), "127.0.0.1:" + std::to_string(port), x.identity.fast_public};
    std::vector<RegistrarPeer> members{a.peer(), fake_x};
    a.registrar->attach_members([&] { return members; });
    const std::string e164 = number_ranked(members, x.identity.node_id_hex());

    CHECK(check(a, e164, "123456", "198.51.100.1").is_ok());  // an honest verdict holds
    {
        std::lock_guard lock(mutex);
        signed_by_y = true;
    }
    CHECK(check(a, e164, "123456", "198.51.100.1").code() == Code::kCorruption);
    {
        std::lock_guard lock(mutex);
        signed_by_y = false;
        served.request_digest = crypto::sha256("an earlier request");  // a replayed verdict
    }
    CHECK(check(a, e164, "123456", "198.51.100.1").code() == Code::kCorruption);
}
