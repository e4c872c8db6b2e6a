// Whole dhtalk nodes on the simulated network (sim/sim_nodes.h): Node::open
// as dhtalk-node runs it, with real OpenDHT, sealing, SWIM and presence, the
// trusted network's votes and the real ClientService, in virtual time on one
// thread. One node founds the network and five apply; the members admit
// them by vote and then ban one; users register through the front ends,
// publish and resolve vCards across nodes and watch each other's presence;
// a node crashes and its user becomes unavailable to her watcher. Then 40
// users exchange messages on 8 nodes while 2 crash and restart
// (sim/message_workload.h). Each run replays from its seed: the same
// history of datagrams, bit for bit.
#include <sys/wait.h>
#include <unistd.h>

#include <functional>

#include <json/json.h>

#include "crypto/node_identity.h"
#include "crypto/signing.h"
#include "crypto/user_certificate.h"
#include "crypto/user_id.h"
#include "dht/placement.h"
#include "net/inbox_message.h"
#include "node/node.h"
#include "records/record.h"
#include "records/record_bodies.h"
#include "sim/sim_nodes.h"
#include "sim/message_workload.h"
#include "sim/sim_ops.h"
#include "testing/test_util.h"

#include "tests/doctest.h"

using namespace dhtalk;
using namespace std::chrono_literals;

namespace {

constexpr size_t kNodes = 6;
constexpr size_t kBanned = 5;

// Keys take most of a run's time to make (RSA) and must be the same in
// every replay: made once for the whole program.
struct Keys {
    test::TempDir dir;
    std::vector<std::shared_ptr<dht::crypto::PrivateKey>> users;
    Keys() {
        for (size_t i = 0; i < kNodes; ++i)
            crypto::load_or_create_identity(dir / ("node-" + std::to_string(i)), 2048).value();
        for (int u = 0; u < 3; ++u) users.push_back(crypto::generate_user_key().value());
    }
    std::filesystem::path identity(size_t i) const { return dir / ("node-" + std::to_string(i)); }
};

const Keys& keys() {
    static const Keys k;
    return k;
}

NodeConfig base_config() {
    NodeConfig c;
    c.network = "sim-network";
    c.roster_interval = 1s;
    c.persist_interval = 30s;
    return c;
}

ClientFrame call(SimNodes& sim, size_t node, uint64_t session, const std::string& method, FrameParams params) {
    auto reply = sim_call(sim, node, session, method, std::move(params));
    REQUIRE_MESSAGE(reply, reply.status().message());
    return std::move(reply).value();
}

SimUser register_user(SimNodes& sim, size_t node, const std::string& phone, std::shared_ptr<dht::crypto::PrivateKey> key) {
    auto u = sim_register(sim, node, phone, std::move(key), "10.0.0." + std::to_string(node));
    REQUIRE_MESSAGE(u, u.status().message());
    return std::move(u).value();
}

uint64_t login(SimNodes& sim, size_t node, const SimUser& u) {
    auto s = sim_login(sim, node, u, "10.0.1." + std::to_string(node));
    REQUIRE_MESSAGE(s, s.status().message());
    return *s;
}

std::string publish_vcard(SimNodes& sim, size_t node, uint64_t session, const SimUser& u, const std::string& name) {
    Record r;
    r.type = RecordType::kVCard;
    r.user_id = u.user_id;
    r.certificate = u.certificate->toString();
    r.sequence = 1;
    r.expires_at_s = to_unix_seconds(sim.clock().wall_now()) + 3600;
    VCard card;
    card.name = name;
    r.body = encode_vcard(card);
    auto put = call(sim, node, session, "put", {{"record", seal_record(r, *u.key).value()}});
    return put.status() ? "stored" : put.error;
}

std::string resolve_name(SimNodes& sim, size_t node, uint64_t session, const SimUser& u) {
    auto got = call(sim, node, session, "get", {{"type", std::string("vcard")}, {"user_id", u.user_id}});
    if (!got.status()) return "error: " + got.error;
    auto opened = open_record(got.text("record", kMaxRecordBytes).value()).value();
    return decode_vcard(opened.record.body).value().name;
}

// The last presence pushed to `session` for `user`, or "" if none was.
std::string seen_show(SimNodes& sim, size_t node, uint64_t session, const SimUser& u) {
    std::string show;
    for (const auto& f : sim.front(node)->pushed(session))
        if (auto who = f.text("user_id", 64); f.kind == "presence" && who && *who == u.user_id)
            show = f.text("show", 16) ? *f.text("show", 16) : "?";
    return show;
}

// The messages node `node` hands `session`'s user, as "sender/id:body".
std::vector<std::string> fetch_inbox(SimNodes& sim, size_t node, uint64_t session) {
    auto fetched = call(sim, node, session, "inbox.fetch", {});
    REQUIRE_MESSAGE(fetched.status(), fetched.error);
    std::vector<std::string> out;
    const auto messages = fetched.list("messages").value();
    for (const auto& bytes : messages) {
        auto decoded = decode_inbox_message(bytes);
        REQUIRE_MESSAGE(decoded, decoded.status().message());
        auto m = std::move(decoded).value();
        out.push_back(m.sender + "/" + m.id + ":" + m.body);
    }
    return out;
}

// The node ids of nodes 0 to kBanned - 1: the members once node 5 is banned.
std::vector<std::string> member_ids() {
    std::vector<std::string> ids;
    for (size_t i = 0; i < kBanned; ++i)
        ids.push_back(crypto::load_or_create_identity(keys().identity(i)).value().node_id_hex());
    return ids;
}

// `user`'s two inbox holders, as node numbers.
std::vector<size_t> inbox_holders_of(const std::string& user) {
    const auto ids = member_ids();
    std::vector<size_t> out;
    for (const auto& id : rank_members("inbox", user, ids)) {
        if (out.size() == kInboxHolders) break;
        out.push_back(static_cast<size_t>(std::find(ids.begin(), ids.end(), id) - ids.begin()));
    }
    return out;
}

// A run's settings: its seed, 20 ms median latency, the nodes' folders in `dir`.
SimNodesConfig sim_config(uint64_t seed, const test::TempDir& dir) {
    SimNodesConfig config;
    config.seed = seed;
    config.link.median_latency = 20ms;
    config.dir = dir.path();
    return config;
}

// One slot per identity, in order.
void add_slots(SimNodes& sim, const std::vector<std::filesystem::path>& identities) {
    for (size_t i = 0; i < identities.size(); ++i) {
        sim.add_slot();
        REQUIRE(sim.set_identity(i, identities[i]));
    }
}

// The whole scenario; returns what it observed and the network's digest.
std::string scenario(uint64_t seed) {
    keys();  // made before the seeded entropy starts: OpenDHT draws from it for each certificate
    test::TempDir dir;
    std::vector<std::filesystem::path> identities;
    for (size_t i = 0; i < kNodes; ++i) identities.push_back(keys().identity(i));
    SimNodes sim(sim_config(seed, dir));
    add_slots(sim, identities);
    auto standing = [&](size_t i) { return sim.node(i)->trust()->standing(); };
    const Status founded = sim_found(sim, kNodes, base_config(), identities);
    REQUIRE_MESSAGE(founded, founded.message());
    std::string history = "admitted at epoch " + std::to_string(sim.node(0)->trust()->epoch());

    // The members ban node 5: it is cut off, the others carry on.
    for (size_t m = 0; m < kNodes - 1; ++m) REQUIRE(sim_vote(sim, m, "ban", sim_node_id(keys().identity(kBanned))));
    REQUIRE(sim.network().run_until_true([&] { return standing(kBanned) == TrustedNetwork::Standing::kBanned; }, 60s));
    history += "; banned at epoch " + std::to_string(sim.node(0)->trust()->epoch());
    sim.network().run_for(10s);  // the membership protocol settles

    // Users register on different nodes (each number's registrar may be any member).
    const SimUser alice = register_user(sim, 1, "+15550000001", keys().users[0]);
    const SimUser bob = register_user(sim, 3, "+15550000002", keys().users[1]);

    // Alice publishes her vCard through node 1; Bob resolves it through node 3.
    const uint64_t a = login(sim, 1, alice);
    const uint64_t b = login(sim, 3, bob);
    const std::string stored = publish_vcard(sim, 1, a, alice, "Alice");
    CHECK(stored == "stored");
    const std::string name = resolve_name(sim, 3, b, alice);
    CHECK(name == "Alice");
    history += "; vcard " + stored + ", resolved '" + name + "'";

    // Bob watches Alice; she says she is available.
    auto watched = call(sim, 3, b, "presence.watch", {{"user_ids", std::vector<std::string>{alice.user_id}}});
    REQUIRE_MESSAGE(watched.status(), watched.error);
    auto set = call(sim, 1, a, "presence.set", {{"show", std::string("available")}, {"status", std::string("hi")}});
    REQUIRE_MESSAGE(set.status(), set.error);
    CHECK(sim.network().run_until_true([&] { return seen_show(sim, 3, b, alice) == "available"; }, 5s));
    history += "; bob sees alice " + seen_show(sim, 3, b, alice);

    // Cut off from every other node, node 1 reaches none of them through
    // the peer service either: a message to Bob cannot be stored with his
    // inbox holders (two of which are elsewhere) until the partition heals.
    const auto cut = sim.host(1);
    sim.network().set_partition([cut](SimNetwork::HostId x, SimNetwork::HostId y) { return (x == cut) != (y == cut); });
    auto cut_off = call(sim, 1, a, "message.send",
                        {{"to", bob.user_id}, {"device", bob.device_id}, {"id", std::string("m0")},
                         {"body", std::string("ciphertext")}, {"sent_ms", uint64_t{1}}});
    CHECK_FALSE(cut_off.status());
    sim.network().set_partition(nullptr);
    history += "; cut off: " + cut_off.error;

    // Alice sends Bob a message through node 1: "stored" once two of Bob's
    // inbox holders have it on disk.
    auto sent = call(sim, 1, a, "message.send",
                     {{"to", bob.user_id}, {"device", bob.device_id}, {"id", std::string("m1")}, {"body", std::string("ciphertext")},
                      {"sent_ms", uint64_t{1}}});
    REQUIRE_MESSAGE(sent.status(), sent.error);
    CHECK(sent.flag("stored").value());
    // A retry (the same id) is held once.
    REQUIRE(call(sim, 1, a, "message.send",
                 {{"to", bob.user_id}, {"device", bob.device_id}, {"id", std::string("m1")}, {"body", std::string("ciphertext")},
                  {"sent_ms", uint64_t{1}}}).status());
    history += "; message stored";

    // Node 1 crashes: Bob sees Alice unavailable once the others declare it dead.
    const auto crashed_at = sim.network().now();
    sim.crash(1);
    CHECK(sim.network().run_until_true([&] { return seen_show(sim, 3, b, alice) == "unavailable"; }, 60s));
    history += "; after the crash bob sees alice " + seen_show(sim, 3, b, alice) + " within " +
               std::to_string(std::chrono::duration_cast<std::chrono::seconds>(sim.network().now() - crashed_at).count()) +
               " s";
    // Her vCard outlives her node.
    CHECK(resolve_name(sim, 3, b, alice) == "Alice");

    // One holder of Bob's inbox is lost (node 1 if it was one, else another
    // crashes now, before anyone declares it dead): Bob still gets the
    // message, once, and once he acknowledges it no holder hands it out.
    const auto holders = inbox_holders_of(inbox_address(bob.user_id, bob.device_id));
    if (std::find(holders.begin(), holders.end(), size_t{1}) == holders.end())
        sim.crash(holders[0] != 3 ? holders[0] : holders[1]);  // not Bob's own node
    const auto inbox = fetch_inbox(sim, 3, b);
    const std::string from_alice = inbox_address(alice.user_id, alice.device_id);
    CHECK(inbox == std::vector<std::string>{from_alice + "/m1:ciphertext"});
    auto acked = call(sim, 3, b, "inbox.ack", {{"messages", std::vector<std::string>{from_alice + "/m1"}}});
    REQUIRE_MESSAGE(acked.status(), acked.error);
    CHECK(fetch_inbox(sim, 3, b).empty());
    history += "; bob read " + std::to_string(inbox.size()) + " message(s)";
    history += "; digest " + std::to_string(sim.network().history_digest());
    return history;
}

// Messages between 40 users of 8 nodes, 2 of which crash and restart in
// the second half: what the workload observed, and the network's digest.
constexpr size_t kChurnNodes = 8;
constexpr size_t kChurnUsers = 40;

struct ChurnKeys {
    test::TempDir dir;
    std::vector<std::filesystem::path> nodes;
    std::vector<std::shared_ptr<dht::crypto::PrivateKey>> users;
    ChurnKeys() {
        for (size_t i = 0; i < kChurnNodes; ++i) {
            nodes.push_back(dir / ("node-" + std::to_string(i)));
            crypto::load_or_create_identity(nodes.back(), 2048).value();
        }
        for (size_t u = 0; u < kChurnUsers; ++u) users.push_back(crypto::generate_user_key().value());
    }
};

const ChurnKeys& churn_keys() {
    static const ChurnKeys k;
    return k;
}

std::string churn_scenario(uint64_t seed) {
    test::TempDir dir;
    SimNodes sim(sim_config(seed, dir));
    add_slots(sim, churn_keys().nodes);
    MessageWorkloadConfig w;
    w.users = kChurnUsers;
    w.messages = 120;
    w.churn = 0.25;
    w.run = 40s;
    w.drain = 70s;
    w.seed = seed;
    w.base = base_config();
    const Status founded = sim_found(sim, kChurnNodes, w.base, churn_keys().nodes);
    REQUIRE_MESSAGE(founded, founded.message());
    auto r = run_message_workload(sim, kChurnNodes, w, churn_keys().users);
    REQUIRE_MESSAGE(r, r.status().message());
    return "sent " + std::to_string(r->sent) + ", stored " + std::to_string(r->stored) + ", delivered " +
           std::to_string(r->delivered) + ", lost " + std::to_string(r->lost) + ", churned " +
           std::to_string(r->churned) + ", failovers " + std::to_string(r->failovers) + "; digest " +
           std::to_string(sim.network().history_digest());
}

// The scenario in a child process forked from this one. OpenDHT 2.4.12
// orders some of its maps by pointer (a search's queries, a value's
// listeners), so two runs one after the other in one process may differ;
// each child starts from the parent's heap, as a fresh process of the same
// program would.
std::string forked(const std::function<std::string()>& scenario) {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::close(fds[0]);
        std::string out;
        try {
            out = scenario();
        } catch (...) {
            out = "the scenario failed";
        }
        const bool written = ::write(fds[1], out.data(), out.size()) == static_cast<ssize_t>(out.size());
        ::_exit(written ? 0 : 1);
    }
    ::close(fds[1]);
    std::string out;
    char buf[4096];
    for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
    ::close(fds[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status));
    return out;
}

}  // namespace

TEST_CASE("whole nodes on the simulated network: vote, register, resolve, presence, crash") {
    MESSAGE(scenario(7));
}

TEST_CASE("a whole-node run replays bit for bit from its seed") {
    keys();  // the same identities in every child
    const std::string first = forked([] { return scenario(7); });
    CHECK(first.find("digest") != std::string::npos);
    CHECK(first == forked([] { return scenario(7); }));
    CHECK(first != forked([] { return scenario(8); }));  // the digest does tell runs apart
}

TEST_CASE("messages under churn: none lost, each delivered, and the run replays from its seed") {
    churn_keys();  // the same keys in every child
    const std::string first = forked([] { return churn_scenario(3); });
    MESSAGE(first);
    CHECK(first.find("sent 120, stored 120, delivered 120, lost 0, churned 2") == 0);
    CHECK(first == forked([] { return churn_scenario(3); }));
}
