// Inboxes between members over the real peer transport (HTTP on loopback):
// a message is held by the recipient's two holders, fetched through any
// member and deleted everywhere once acknowledged; a holder that cannot be
// reached is stood in for; requests a holder cannot trust, and answers the
// asking member cannot, are refused; repair after a change of members.
#include <atomic>
#include <future>
#include <map>
#include <mutex>
#include <set>

#include "crypto/node_identity.h"
#include "crypto/signing.h"
#include "dht/placement.h"
#include "node/front/inbox_service.h"
#include "storage/memory_store.h"
#include "testing/test_util.h"

#include "tests/doctest.h"

using namespace dhtalk;
using namespace std::chrono;

namespace {

constexpr uint32_t kInboxNetwork = 78;

// A member: identity, store, peer service and inbox service.
struct TestHolder {
    TestHolder(const test::TempDir& dir, const std::string& name)
        : identity(crypto::load_or_create_identity(dir / name, 2048).value()) {
        InboxConfig c;
        c.network_id = kInboxNetwork;
        inbox = std::make_unique<InboxService>(c, identity, store, clock, drivers, tcp_peer_net());
        peers = PeerService::start(tcp_peer_net(), "127.0.0.1", 0, clock).value();
        peers->attach_inbox(inbox.get());
    }
    ~TestHolder() {
        peers->stop();
        inbox->stop();
    }
    InboxPeer peer() const {
        return {identity.node_id_hex(), "127.0.0.1:" + std::to_string(peers->port()), identity.fast_public, true};
    }

    SystemClock clock;
    ThreadDrivers drivers{clock};
    MemoryStore store;
    crypto::NodeIdentity identity;
    std::unique_ptr<InboxService> inbox;
    std::unique_ptr<PeerService> peers;
};

struct InboxNetwork {
    test::TempDir dir;
    TestHolder a{dir, "a"}, b{dir, "b"}, c{dir, "c"};
    std::vector<InboxPeer> members{a.peer(), b.peer(), c.peer()};
    InboxNetwork() {
        for (TestHolder* m : {&a, &b, &c}) m->inbox->attach_members([this] { return members; });
    }
    // The holders' workers (a message passed on late) read `members`, which
    // goes before the holders do: they stop first.
    ~InboxNetwork() {
        for (TestHolder* m : {&a, &b, &c}) {
            m->peers->stop();
            m->inbox->stop();
        }
    }
    TestHolder& by_id(const std::string& id) {
        for (TestHolder* m : {&a, &b, &c})
            if (m->identity.node_id_hex() == id) return *m;
        FAIL("no such member");
        return a;
    }
    // The recipient's holders, best first.
    std::vector<TestHolder*> ranked(const std::string& recipient) {
        std::vector<TestHolder*> out;
        for (const auto& id : rank_members("inbox", recipient, {a.peer().node_id, b.peer().node_id, c.peer().node_id}))
            out.push_back(&by_id(id));
        return out;
    }
};

InboxMessage held_message(const std::string& id, const std::string& recipient = "bob") {
    return {recipient, "alice", id, 1, 0, "ciphertext " + id};
}

Status sent_via(TestHolder& via, InboxMessage m) {
    std::promise<Status> p;
    via.inbox->send(std::move(m), [&](Status s) { p.set_value(std::move(s)); });
    auto f = p.get_future();
    REQUIRE(f.wait_for(30s) == std::future_status::ready);
    return f.get();
}

Result<std::vector<InboxMessage>> fetched(TestHolder& via, const std::string& recipient) {
    std::promise<Result<std::vector<InboxMessage>>> p;
    via.inbox->fetch(recipient, 100, [&](Result<std::vector<InboxMessage>> r) { p.set_value(std::move(r)); });
    auto f = p.get_future();
    REQUIRE(f.wait_for(30s) == std::future_status::ready);
    return f.get();
}

Status acknowledged(TestHolder& via, const std::string& recipient, std::vector<MessageRef> acks) {
    std::promise<Status> p;
    via.inbox->acknowledge(recipient, std::move(acks), [&](Status s) { p.set_value(std::move(s)); });
    auto f = p.get_future();
    REQUIRE(f.wait_for(30s) == std::future_status::ready);
    return f.get();
}

// A request as `from` would send it to `to`, signed.
InboxRequest inbox_request(const TestHolder& from, const TestHolder& to, InboxRequest::Kind kind) {
    InboxRequest r;
    r.kind = kind;
    r.network_id = kInboxNetwork;
    r.from = from.identity.node_id_hex();
    r.to = to.identity.node_id_hex();
    r.sent_ms = to_unix_millis(system_clock::now());
    r.recipient = "bob";
    if (kind == InboxRequest::Kind::kHold) {
        r.messages = {held_message("m1")};
        r.messages[0].expires_ms = r.sent_ms + 3600000;
    }
    r.max = 10;
    r.signature = crypto::sign(*from.identity.fast_key, body_of(r)).value();
    return r;
}

}  // namespace

TEST_CASE("a message is held by its recipient's two holders, fetched through any member, and deleted everywhere") {
    InboxNetwork n;
    const auto holders = n.ranked("bob");
    TestHolder& other = *holders[2];  // neither holder: it passes the message on
    REQUIRE(sent_via(other, held_message("m1")).is_ok());
    REQUIRE(sent_via(other, held_message("m1")).is_ok());  // a retry
    CHECK(holders[0]->inbox->held().messages == 1);
    CHECK(holders[1]->inbox->held().messages == 1);
    CHECK(other.inbox->held().messages == 0);

    for (TestHolder* via : {&n.a, &n.b, &n.c}) {
        auto got = fetched(*via, "bob");
        REQUIRE_MESSAGE(got.is_ok(), got.status().to_string());
        REQUIRE(got->size() == 1);  // once, though two holders have it
        CHECK(got->front().id == "m1");
        CHECK(got->front().body == "ciphertext m1");
        CHECK(got->front().expires_ms > to_unix_millis(system_clock::now()) + 6 * 24 * 3600 * 1000ll);
    }
    CHECK(fetched(n.a, "carol")->empty());

    REQUIRE(acknowledged(n.a, "bob", {{"alice", "m1"}}).is_ok());
    CHECK(holders[0]->inbox->held().messages == 0);
    CHECK(holders[1]->inbox->held().messages == 0);
    CHECK(fetched(n.b, "bob")->empty());
}

TEST_CASE("a holder that cannot be reached is stood in for, and too few holders is an error, not a false 'stored'") {
    InboxNetwork n;
    const auto holders = n.ranked("bob");
    holders[0]->peers->stop();  // down, not yet declared dead
    REQUIRE(sent_via(*holders[1], held_message("m1")).is_ok());
    CHECK(holders[1]->inbox->held().messages == 1);
    CHECK(holders[2]->inbox->held().messages == 1);  // the stand-in
    auto got = fetched(*holders[2], "bob");
    REQUIRE(got.is_ok());
    CHECK(got->size() == 1);

    // Declared dead, it is not even asked.
    n.members[0].alive = n.members[0].node_id != holders[0]->identity.node_id_hex();
    n.members[1].alive = n.members[1].node_id != holders[0]->identity.node_id_hex();
    n.members[2].alive = n.members[2].node_id != holders[0]->identity.node_id_hex();
    REQUIRE(sent_via(*holders[1], held_message("m2")).is_ok());
    CHECK(holders[2]->inbox->held().messages == 2);

    holders[2]->peers->stop();
    auto refused = sent_via(*holders[1], held_message("m3"));
    CHECK(refused.code() == Code::kUnavailable);
    CHECK(refused.message().find("held by 1 of the 2") != std::string::npos);
}

TEST_CASE("repair: a holder lost for good is replaced with its copies, and a stand-in hands over and lets go") {
    InboxNetwork n;
    const auto holders = n.ranked("bob");
    TestHolder& first = *holders[0];
    TestHolder& second = *holders[1];
    TestHolder& third = *holders[2];
    auto drop = [&](const TestHolder& gone) {
        n.members.erase(std::remove_if(n.members.begin(), n.members.end(),
                                       [&](const InboxPeer& p) { return p.node_id == gone.identity.node_id_hex(); }),
                        n.members.end());
    };
    auto set_alive = [&](const TestHolder& m, bool alive) {
        for (auto& p : n.members)
            if (p.node_id == m.identity.node_id_hex()) p.alive = alive;
    };

    SUBCASE("a holder leaves the network: the next member in the inbox's order gets the copies") {
        REQUIRE(sent_via(third, held_message("m1")).is_ok());
        REQUIRE(third.inbox->held().messages == 0);
        drop(first);
        // repair_later() waits for the members to stay the same from one call to the next.
        second.inbox->repair_later();
        CHECK(third.inbox->held().messages == 0);
        second.inbox->repair_later();
        REQUIRE(test::wait_until([&] { return second.inbox->repaired_copies() == 1; }, 10s));
        CHECK(third.inbox->held().messages == 1);
        CHECK(second.inbox->held().messages == 1);  // still a holder: it keeps its copy
        // The second holder goes too: the message survives on the new one.
        second.peers->stop();
        auto got = fetched(third, "bob");
        REQUIRE_MESSAGE(got.is_ok(), got.status().to_string());
        REQUIRE(got->size() == 1);
        CHECK(got->front().id == "m1");
    }
    SUBCASE("a holder that was down comes back: the stand-in hands over and lets go") {
        set_alive(first, false);
        REQUIRE(sent_via(second, held_message("m2")).is_ok());
        REQUIRE(third.inbox->held().messages == 1);  // standing in
        CHECK(first.inbox->held().messages == 0);
        set_alive(first, true);
        const auto r = third.inbox->repair();
        CHECK(r.complete);
        CHECK(r.copies == 2);
        CHECK(first.inbox->held().messages == 1);
        CHECK(second.inbox->held().messages == 1);
        CHECK(third.inbox->held().messages == 0);
        // Nothing changed since: the holders have nothing to hand over, and keep theirs.
        CHECK(first.inbox->repair().copies == 1);  // the other holder already had it
        CHECK(first.inbox->held().messages == 1);
    }
    SUBCASE("a holder that cannot be reached leaves the repair incomplete, and the copies where they are") {
        set_alive(first, false);
        REQUIRE(sent_via(second, held_message("m3")).is_ok());
        set_alive(first, true);
        first.peers->stop();
        const auto r = third.inbox->repair();
        CHECK_FALSE(r.complete);
        CHECK(third.inbox->held().messages == 1);
    }
}

TEST_CASE("a fetch that reaches no holder is an error, not an empty inbox") {
    InboxNetwork n;
    const auto holders = n.ranked("bob");
    REQUIRE(sent_via(*holders[2], held_message("m1")).is_ok());
    // Both holders up but out of reach (not declared dead): only the member
    // asking would answer, and it holds nothing of Bob's.
    holders[0]->peers->stop();
    holders[1]->peers->stop();
    auto got = fetched(*holders[2], "bob");
    CHECK(got.status().code() == Code::kUnavailable);
    CHECK(got.status().message().find("no holder of this inbox answered") != std::string::npos);
}

TEST_CASE("a holder's bounds reach the sender, and nothing it holds is lost") {
    InboxNetwork n;
    InboxConfig c;
    c.network_id = kInboxNetwork;
    c.limits.max_messages_per_pair = 1;
    c.limits.max_message_bytes = 20;
    for (TestHolder* m : {&n.a, &n.b, &n.c}) {
        m->inbox = std::make_unique<InboxService>(c, m->identity, m->store, m->clock, m->drivers, tcp_peer_net());
        m->inbox->attach_members([&] { return n.members; });
        m->peers->attach_inbox(m->inbox.get());
    }
    const auto holders = n.ranked("bob");
    REQUIRE(sent_via(*holders[2], held_message("m1")).is_ok());
    auto full = sent_via(*holders[2], held_message("m2"));
    CHECK(full.code() == Code::kResourceExhausted);
    CHECK(full.message().find("too many of your messages") != std::string::npos);
    CHECK(sent_via(*holders[2], {"bob", "alice", "m3", 1, 0, std::string(21, 'x')}).code() == Code::kInvalidArgument);
    CHECK(sent_via(*holders[2], {"bob", "alice", "../m3", 1, 0, "x"}).code() == Code::kInvalidArgument);
    CHECK(holders[0]->inbox->held().messages == 1);
    CHECK(holders[1]->inbox->held().messages == 1);
    CHECK(fetched(n.a, "bob")->front().id == "m1");
}

TEST_CASE("many messages sent at once are held in batches: each where it belongs, and a bound refuses only its own") {
    InboxNetwork n;
    InboxConfig c;
    c.network_id = kInboxNetwork;
    c.limits.max_messages_per_pair = 5;
    for (TestHolder* m : {&n.a, &n.b, &n.c}) {
        m->inbox = std::make_unique<InboxService>(c, m->identity, m->store, m->clock, m->drivers, tcp_peer_net());
        m->inbox->attach_members([&] { return n.members; });
        m->peers->attach_inbox(m->inbox.get());
    }
    // 8 messages to each of 20 recipients, all at once through one member:
    // 5 of each fit the bound per sender and recipient, 3 do not.
    std::mutex mutex;
    std::map<std::string, std::pair<int, int>> outcome;  // recipient -> (stored, refused over the bound)
    std::atomic<int> answered{0};
    for (int r = 0; r < 20; ++r)
        for (int k = 0; k < 8; ++k) {
            const std::string recipient = "user" + std::to_string(r);
            InboxMessage m = held_message("m" + std::to_string(k), recipient);
            n.a.inbox->send(std::move(m), [&, recipient](Status s) {
                std::lock_guard lock(mutex);
                if (s) outcome[recipient].first++;
                else if (s.code() == Code::kResourceExhausted) outcome[recipient].second++;
                answered++;
            });
        }
    REQUIRE(test::wait_until([&] { return answered.load() == 160; }, 30s));
    for (int r = 0; r < 20; ++r) {
        const std::string recipient = "user" + std::to_string(r);
        CAPTURE(recipient);
        CHECK(outcome[recipient] == std::pair{5, 3});
        // Fetched through another member: what was said stored is there.
        auto got = fetched(n.b, recipient);
        REQUIRE(got.is_ok());
        CHECK(got->size() == 5);
    }
}

TEST_CASE("a hold request may carry messages to several recipients; other requests may not") {
    test::TempDir dir;
    TestHolder from(dir, "from"), to(dir, "to");
    InboxRequest hold = inbox_request(from, to, InboxRequest::Kind::kHold);
    hold.recipient = "";
    InboxMessage other = hold.messages[0];
    other.recipient = "carol";
    hold.messages.push_back(other);
    auto decoded = decode_inbox_request(encode(hold));
    REQUIRE(decoded.is_ok());
    CHECK(decoded->messages.size() == 2);
    InboxRequest fetch = inbox_request(from, to, InboxRequest::Kind::kFetch);
    fetch.recipient = "";
    CHECK_FALSE(decode_inbox_request(encode(fetch)).is_ok());
    InboxRequest named = inbox_request(from, to, InboxRequest::Kind::kHold);
    named.messages.push_back(other);  // to carol, in a hold for bob
    CHECK_FALSE(decode_inbox_request(encode(named)).is_ok());
}

TEST_CASE("a follow may list up to a batch of inboxes, with none named; no other request lists any") {
    test::TempDir dir;
    TestHolder from(dir, "from"), to(dir, "to");
    auto decoded = [&](InboxRequest r) {
        r.signature = crypto::sign(*from.identity.fast_key, body_of(r)).value();
        return decode_inbox_request(encode(r));
    };
    InboxRequest listed = inbox_request(from, to, InboxRequest::Kind::kFollow);
    listed.recipient = "";
    for (size_t i = 0; i < kMaxInboxBatch; ++i) listed.recipients.push_back("user" + std::to_string(i));
    auto ok = decoded(listed);
    REQUIRE(ok.is_ok());
    CHECK(ok->recipients == listed.recipients);
    // A single follow keeps the nine fields older nodes read.
    auto single = decoded(inbox_request(from, to, InboxRequest::Kind::kFollow));
    REQUIRE(single.is_ok());
    CHECK(single->recipients.empty());

    InboxRequest too_many = listed;
    too_many.recipients.push_back("one-more");
    CHECK_FALSE(decoded(too_many).is_ok());
    InboxRequest malformed = listed;
    malformed.recipients[3] = "../bob";
    CHECK(decoded(malformed).status().message().find("a list of user ids") != std::string::npos);
    InboxRequest named_too = listed;
    named_too.recipient = "bob";
    CHECK_FALSE(decoded(named_too).is_ok());
    InboxRequest none = listed;
    none.recipients.clear();
    CHECK(decoded(none).status().message().find("a follow of at least one inbox") != std::string::npos);
    InboxRequest fetch = inbox_request(from, to, InboxRequest::Kind::kFetch);
    fetch.recipients = {"bob"};
    CHECK_FALSE(decoded(fetch).is_ok());
}

TEST_CASE("a holder refuses requests it cannot trust, and answers each good one signed") {
    InboxNetwork n;
    TestHolder outsider{n.dir, "outsider"};
    auto refused = [&](const InboxRequest& r) { return n.c.inbox->on_inbox_request(encode(r)).status(); };
    auto resign = [](InboxRequest& r, const TestHolder& by) {
        r.signature = crypto::sign(*by.identity.fast_key, body_of(r)).value();
    };

    auto good = inbox_request(n.a, n.c, InboxRequest::Kind::kHold);
    auto answer = n.c.inbox->on_inbox_request(encode(good));
    REQUIRE_MESSAGE(answer.is_ok(), answer.status().to_string());
    auto a = decode_inbox_answer(*answer).value();
    CHECK(a.status().is_ok());
    CHECK(a.request_digest == crypto::sha256(encode(good)));
    CHECK(crypto::verify_fast(n.c.identity.fast_public, body_of(a), a.signature));
    CHECK(n.c.inbox->held().messages == 1);

    auto fetch = inbox_request(n.b, n.c, InboxRequest::Kind::kFetch);
    auto listed = decode_inbox_answer(n.c.inbox->on_inbox_request(encode(fetch)).value()).value();
    CHECK(listed.messages.size() == 1);

    CHECK(refused(inbox_request(outsider, n.c, InboxRequest::Kind::kFetch)).message().find("not a current member") !=
          std::string::npos);
    auto forged = inbox_request(n.a, n.c, InboxRequest::Kind::kAck);
    forged.acks = {{"alice", "m1"}};  // changed after signing
    CHECK(refused(forged).message().find("did not sign") != std::string::npos);
    auto by_other = inbox_request(n.a, n.c, InboxRequest::Kind::kAck);
    resign(by_other, n.b);
    CHECK(refused(by_other).code() == Code::kPermissionDenied);
    auto other_network = inbox_request(n.a, n.c, InboxRequest::Kind::kFetch);
    other_network.network_id = kInboxNetwork + 1;
    resign(other_network, n.a);
    CHECK(refused(other_network).message().find("another network") != std::string::npos);
    auto other_node = inbox_request(n.a, n.b, InboxRequest::Kind::kFetch);
    CHECK(refused(other_node).message().find("another node") != std::string::npos);
    auto stale = inbox_request(n.a, n.c, InboxRequest::Kind::kFetch);
    stale.sent_ms -= 3600 * 1000;
    resign(stale, n.a);
    CHECK(refused(stale).message().find("away from this node's clock") != std::string::npos);
    auto to_other = inbox_request(n.a, n.c, InboxRequest::Kind::kHold);
    to_other.messages[0].recipient = "carol";  // not the request's recipient
    resign(to_other, n.a);
    CHECK(refused(to_other).code() == Code::kInvalidArgument);
    CHECK(n.c.inbox->on_inbox_request(encode(inbox_request(n.a, n.c, InboxRequest::Kind::kHold))).is_ok());  // a retry
    CHECK(n.c.inbox->on_inbox_request(encode(good) + "x").status().message().find("trailing") != std::string::npos);
    CHECK(n.c.inbox->held().messages == 1);
}

namespace {

// A holder that answers every request with something the asking member must
// not trust.
class ForgingHolder final : public InboxHandler {
public:
    enum class Forgery { kOtherKey, kOtherRequest, kMalformed };
    ForgingHolder(const TestHolder& as, const TestHolder& other, Forgery how) : as_(as), other_(other), how_(how) {}
    Result<std::string> on_inbox_request(std::string_view request) override {
        if (how_ == Forgery::kMalformed) return std::string("not an answer");
        InboxAnswer a;
        a.network_id = kInboxNetwork;
        a.from = as_.identity.node_id_hex();
        a.request_digest = crypto::sha256(how_ == Forgery::kOtherRequest ? std::string("another request") : std::string(request));
        const auto& signer = how_ == Forgery::kOtherKey ? other_ : as_;
        a.signature = crypto::sign(*signer.identity.fast_key, body_of(a)).value();
        return encode(a);
    }

private:
    const TestHolder& as_;
    const TestHolder& other_;
    Forgery how_;
};

}  // namespace

TEST_CASE("an answer its holder did not sign for this very request counts as no answer") {
    using Forgery = ForgingHolder::Forgery;
    for (Forgery how : {Forgery::kOtherKey, Forgery::kOtherRequest, Forgery::kMalformed}) {
        CAPTURE(static_cast<int>(how));
        InboxNetwork n;
        const auto holders = n.ranked("bob");
        ForgingHolder forger(*holders[0], *holders[2], how);
        holders[0]->peers->attach_inbox(&forger);  // "held", say its forged answers
        REQUIRE(sent_via(*holders[1], held_message("m1")).is_ok());
        CHECK(holders[0]->inbox->held().messages == 0);
        CHECK(holders[1]->inbox->held().messages == 1);
        CHECK(holders[2]->inbox->held().messages == 1);  // the stand-in, as for a holder that is down
        holders[0]->peers->attach_inbox(holders[0]->inbox.get());  // the forger goes first
    }
}

namespace {

// What an inbox service hands over to its sessions, as it comes.
struct Handed {
    std::mutex mutex;
    std::vector<InboxMessage> messages;
    size_t count() {
        std::lock_guard lock(mutex);
        return messages.size();
    }
    // The ids so far (a copy: deliveries may still come in).
    std::vector<std::string> ids() {
        std::lock_guard lock(mutex);
        std::vector<std::string> out;
        for (const auto& m : messages) out.push_back(m.id);
        return out;
    }
};

void collect(TestHolder& at, Handed& handed) {
    at.inbox->attach_delivery([&handed](const std::string&, const std::vector<InboxMessage>& messages) {
        std::lock_guard lock(handed.mutex);
        handed.messages.insert(handed.messages.end(), messages.begin(), messages.end());
    });
}

void followed(TestHolder& at, const std::string& recipient) {
    std::promise<Status> p;
    at.inbox->follow(recipient, [&](Status s) { p.set_value(std::move(s)); });
    auto f = p.get_future();
    REQUIRE(f.wait_for(30s) == std::future_status::ready);
    REQUIRE(f.get().is_ok());
}

}  // namespace

TEST_CASE("a node that follows an inbox is handed each new message once, by the holders, until it stops") {
    InboxNetwork net;
    // The recipient's session is on the member that holds none of its inbox.
    TestHolder& host = *net.ranked("bob")[2];
    TestHolder& sender_node = *net.ranked("bob")[0];
    Handed handed;
    collect(host, handed);
    followed(host, "bob");

    REQUIRE(sent_via(sender_node, held_message("m1")).is_ok());
    REQUIRE(test::wait_until([&] { return handed.count() >= 1; }, 10s));
    CHECK(handed.ids().front() == "m1");
    // A retry holds nothing new, so nothing is passed on; both holders'
    // copies of m1 came as one.
    REQUIRE(sent_via(sender_node, held_message("m1")).is_ok());
    REQUIRE(sent_via(sender_node, held_message("m2")).is_ok());
    REQUIRE(test::wait_until([&] { return handed.count() >= 2; }, 10s));
    // Sent through the host itself, a holder passes it back to it.
    REQUIRE(sent_via(host, held_message("m3")).is_ok());
    REQUIRE(test::wait_until([&] { return handed.count() >= 3; }, 10s));
    // Another user's messages are not handed over here.
    REQUIRE(sent_via(sender_node, held_message("c1", "carol")).is_ok());

    // Unfollowed: what the holders still pass on while their lease runs is
    // dropped here. (Whether m4's pass-on has arrived by the check below
    // cannot be awaited; it is dropped whenever it comes.)
    host.inbox->unfollow("bob");
    REQUIRE(sent_via(sender_node, held_message("m4")).is_ok());
    followed(host, "dave");
    REQUIRE(sent_via(sender_node, held_message("d1", "dave")).is_ok());
    REQUIRE(test::wait_until([&] { return handed.count() >= 4; }, 10s));
    CHECK(handed.ids() == std::vector<std::string>{"m1", "m2", "m3", "d1"});
}

// The transport, counting the requests this node makes.
struct CountingNet final : PeerNet {
    std::atomic<size_t> exchanges{0};
    Result<std::unique_ptr<PeerListener>> listen(const std::string& host, uint16_t port, const PeerHttpLimits& limits,
                                                 Handler handler) override {
        return tcp_peer_net().listen(host, port, limits, std::move(handler));
    }
    Result<PeerAnswer> exchange(const std::string& endpoint, const PeerCall& call, size_t limit) override {
        ++exchanges;
        return tcp_peer_net().exchange(endpoint, call, limit);
    }
};

TEST_CASE("a renewal asks each holder once for all the inboxes followed here, and the holders pass each one's messages on") {
    // Before the network: the host's inbox service uses them until it stops.
    CountingNet counting;
    std::atomic<bool> alone{true};
    Handed handed;
    InboxNetwork net;
    // The host sees only itself at first, so its follows reach no other
    // member until the renewal, which must register them all.
    InboxConfig c;
    c.network_id = kInboxNetwork;
    c.followers = 1;  // jobs in order: a follow posted after the renewal ends after it
    TestHolder& host = net.a;
    host.inbox = std::make_unique<InboxService>(c, host.identity, host.store, host.clock, host.drivers, counting);
    host.inbox->attach_members([&] { return alone ? std::vector<InboxPeer>{host.peer()} : net.members; });
    host.peers->attach_inbox(host.inbox.get());
    collect(host, handed);

    std::vector<std::string> users;
    size_t pushed_by_others = 0;  // users whose messages reach the host only through the renewal
    for (int i = 0; i < 30; ++i) {
        users.push_back("user" + std::to_string(i));
        followed(host, users.back());
        if (net.ranked(users.back())[2] == &host) pushed_by_others++;
    }
    REQUIRE(pushed_by_others > 0);
    CHECK(counting.exchanges == 0);

    alone = false;
    host.inbox->renew_follows();
    followed(host, "last");  // one request to each of the two others, after the renewal's
    CHECK(counting.exchanges == 4);

    users.push_back("last");
    for (const auto& user : users) REQUIRE(sent_via(net.b, held_message("m-" + user, user)).is_ok());
    REQUIRE(test::wait_until([&] { return handed.count() >= users.size(); }, 10s));
    std::set<std::string> recipients;
    std::lock_guard lock(handed.mutex);
    for (const auto& m : handed.messages) recipients.insert(m.recipient);
    CHECK(recipients == std::set<std::string>(users.begin(), users.end()));
}

TEST_CASE("a follow or a delivery from a node that is not a member is refused") {
    InboxNetwork net;
    test::TempDir dir;
    TestHolder stranger(dir, "stranger");
    for (auto kind : {InboxRequest::Kind::kFollow, InboxRequest::Kind::kDeliver}) {
        InboxRequest r = inbox_request(stranger, net.a, kind);
        if (kind == InboxRequest::Kind::kDeliver) {
            r.messages = {held_message("forged")};
            r.messages[0].expires_ms = r.sent_ms + 3600000;
            r.signature = crypto::sign(*stranger.identity.fast_key, body_of(r)).value();
        }
        CHECK(net.a.inbox->on_inbox_request(encode(r)).status().code() == Code::kPermissionDenied);
    }
}
