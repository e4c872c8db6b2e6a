// Clients against real dhtalk-node processes, through the `dhtalk` command
// line, as the README walks through it: two users register on two different
// nodes, resolve each other by phone number, one blocks the other; the first
// node stops and its user carries on through another node; every record
// survives a restart of every node. And messages: one to an offline user
// outlives its sender's node, reaches the recipient once on a third node,
// comes back to its sender as delivered and read, is pushed to a recipient
// who follows the inbox, and its text is in no node's data. Every
// certificate is in its user's issuance log, which the audit counts. A
// node's message bounds reach the sender; a message past its time expires.
#include <signal.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <thread>

#include "common/json.h"
#include "client/client_connection.h"
#include "client/client_profile.h"
#include "crypto/signing.h"
#include "crypto/tls.h"
#include "net/member_load.h"
#include "tests/node_process.h"

#include "tests/doctest.h"

using namespace dhtalk;
using namespace std::chrono_literals;

namespace {

const std::vector<std::string> kFast{"--roster-interval-ms", "200"};

// Runs `dhtalk ARGS --profile PROFILE` with the nodes given.
test::RunResult user(const std::filesystem::path& profile, std::vector<std::string> args,
                     const std::vector<uint16_t>& client_ports, const std::filesystem::path& scratch) {
    args.insert(args.begin(), test::cli_bin());
    args.push_back("--profile");
    args.push_back(profile.string());
    for (uint16_t p : client_ports) {
        args.push_back("--node");
        args.push_back("127.0.0.1:" + std::to_string(p));
    }
    args.push_back("--timeout");
    args.push_back("10");
    return test::run(args, scratch, 60s);
}

Json::Value json_of(const test::RunResult& r) {
    auto j = json::parse_object(r.out);
    REQUIRE_MESSAGE(j.is_ok(), r.out << r.err);
    return *j;
}

struct Network {
    test::TempDir dir;
    std::unique_ptr<test::NodeProcess> a, b, c;
    RuntimeInfo ra, rb, rc;

    // `c_args`: more options for node c.
    void found(const std::vector<std::string>& c_args = {}) {
        a = std::make_unique<test::NodeProcess>(dir / "a", test::with({"--genesis", "--network", "client-test"}, kFast));
        ra = a->wait_ready();
        const std::string bootstrap = "127.0.0.1:" + std::to_string(ra.peer_port);
        b = std::make_unique<test::NodeProcess>(dir / "b", test::with({"--apply", "bob's operator", "--bootstrap", bootstrap}, kFast));
        rb = b->wait_ready();
        admit(*b, rb, {a.get()});
        c = std::make_unique<test::NodeProcess>(
            dir / "c", test::with(test::with({"--apply", "carol's operator", "--bootstrap", bootstrap}, kFast), c_args));
        rc = c->wait_ready();
        admit(*c, rc, {a.get(), b.get()});
        REQUIRE(test::wait_until([&] { return a->status_json()["peers_ipv4"].asUInt() >= 2; }, 30s));
    }
    void admit(test::NodeProcess& n, const RuntimeInfo& r, std::vector<test::NodeProcess*> voters) {
        REQUIRE(test::wait_until(
            [&] { return voters[0]->cli({"admin", "pending", "--json"}).out.find(r.node_id) != std::string::npos; }, 20s));
        for (auto* v : voters) REQUIRE(v->cli({"admin", "approve", r.node_id}).status == 0);
        REQUIRE(test::wait_until([&] { return n.status_json()["standing"].asString() == "member"; }, 30s));
    }
    // Stops every node, then starts them again on the same data directories
    // and peer ports (where the roster says the members are).
    void restart_all() {
        for (auto* n : {a.get(), b.get(), c.get()}) n->process->signal(SIGTERM);
        for (auto* n : {a.get(), b.get(), c.get()}) REQUIRE(n->process->wait(20s) == std::optional<int>(0));
        auto same_port = [](const RuntimeInfo& r) {
            return test::with({"--dht-port", std::to_string(r.peer_port)}, kFast);
        };
        a = std::make_unique<test::NodeProcess>(dir / "a", same_port(ra));
        ra = a->wait_ready();
        const std::string bootstrap = "127.0.0.1:" + std::to_string(ra.peer_port);
        b = std::make_unique<test::NodeProcess>(dir / "b", test::with({"--bootstrap", bootstrap}, same_port(rb)));
        c = std::make_unique<test::NodeProcess>(dir / "c", test::with({"--bootstrap", bootstrap}, same_port(rc)));
        rb = b->wait_ready();
        rc = c->wait_ready();
        REQUIRE(test::wait_until([&] { return a->status_json()["peers_ipv4"].asUInt() >= 2; }, 30s));
    }
};

// Registers through the node at `port`; the code comes from the number's registrar, any member.
void register_user(Network& net, const std::filesystem::path& profile, const std::string& phone, uint16_t port) {
    std::string e164 = phone;
    e164.erase(std::remove(e164.begin(), e164.end(), ' '), e164.end());
    const std::vector<std::filesystem::path> dirs{net.dir / "a", net.dir / "b", net.dir / "c"};
    const size_t sent_before = test::codes_sent(dirs, e164);  // a second device's number has one already
    auto r = user(profile, {"register", phone}, {port}, net.dir.path());
    REQUIRE_MESSAGE(r.status == 0, r.err);
    const std::string code = test::verification_code(dirs, e164, sent_before);
    REQUIRE(code.size() == 6);
    r = user(profile, {"verify", code}, {port}, net.dir.path());
    REQUIRE_MESSAGE(r.status == 0, r.err);
}

}  // namespace

TEST_CASE("two users on two nodes resolve each other, block, fail over, and survive restarts") {
    Network net;
    net.found();
    const auto alice = net.dir / "alice", bob = net.dir / "bob";
    register_user(net, alice, "+15555245554", net.ra.client_port);
    register_user(net, bob, "+1 555 524 5555", net.rb.client_port);

    auto r = user(alice, {"vcard", "set", "--name", "Alice", "--status", "at work"}, {}, net.dir.path());
    REQUIRE_MESSAGE(r.status == 0, r.err);
    r = user(bob, {"vcard", "set", "--name", "Bob", "--status", "cycling"}, {}, net.dir.path());
    REQUIRE_MESSAGE(r.status == 0, r.err);

    // Each resolves the other by phone number, through their own node.
    r = user(alice, {"resolve", "+15555245555", "--json"}, {}, net.dir.path());
    REQUIRE_MESSAGE(r.status == 0, r.err);
    const std::string bob_id = json_of(r)["user_id"].asString();
    CHECK(json_of(r)["name"].asString() == "Bob");
    r = user(bob, {"resolve", "+15555245554", "--json"}, {}, net.dir.path());
    REQUIRE_MESSAGE(r.status == 0, r.err);
    CHECK(json_of(r)["status"].asString() == "at work");

    // An unknown user is reported as such, with a non-zero exit.
    r = user(alice, {"resolve", "+15555245599"}, {}, net.dir.path());
    CHECK(r.status == 1);
    CHECK(r.err.find("no such user") != std::string::npos);

    // Alice blocks Bob.
    r = user(alice, {"block", bob_id}, {}, net.dir.path());
    REQUIRE_MESSAGE(r.status == 0, r.err);
    r = user(alice, {"privacy", "show", "--json"}, {}, net.dir.path());
    REQUIRE(r.status == 0);
    CHECK(json_of(r)["blocked"][0].asString() == bob_id);

    // Alice's node stops: she logs in through another node, unchanged.
    net.a->process->signal(SIGTERM);
    REQUIRE(net.a->process->wait(20s) == std::optional<int>(0));
    r = user(alice, {"resolve", "+15555245555", "--json"}, {net.ra.client_port, net.rc.client_port}, net.dir.path());
    REQUIRE_MESSAGE(r.status == 0, r.err);
    CHECK(json_of(r)["name"].asString() == "Bob");
    r = user(alice, {"privacy", "show", "--json"}, {net.rc.client_port}, net.dir.path());
    REQUIRE_MESSAGE(r.status == 0, r.err);
    CHECK(json_of(r)["blocked"][0].asString() == bob_id);
    // Bob still finds Alice, whose home node is down.
    r = user(bob, {"resolve", "+15555245554", "--json"}, {}, net.dir.path());
    REQUIRE_MESSAGE(r.status == 0, r.err);
    CHECK(json_of(r)["name"].asString() == "Alice");

    // Every node restarts: every record is still there.
    net.a = std::make_unique<test::NodeProcess>(net.dir / "a", test::with({"--bootstrap", "127.0.0.1:" + std::to_string(net.rb.peer_port)}, kFast));
    net.ra = net.a->wait_ready();
    net.restart_all();
    r = user(alice, {"resolve", "+15555245555", "--json"}, {net.ra.client_port}, net.dir.path());
    REQUIRE_MESSAGE(r.status == 0, r.err);
    CHECK(json_of(r)["name"].asString() == "Bob");
    r = user(bob, {"resolve", "+15555245554", "--json"}, {net.rb.client_port}, net.dir.path());
    REQUIRE_MESSAGE(r.status == 0, r.err);
    CHECK(json_of(r)["name"].asString() == "Alice");
    r = user(alice, {"privacy", "show", "--json"}, {net.rc.client_port}, net.dir.path());
    REQUIRE_MESSAGE(r.status == 0, r.err);
    CHECK(json_of(r)["blocked"][0].asString() == bob_id);
}

namespace {

// Whether `needle` occurs in any file under `dir`.
bool found_in_files(const std::filesystem::path& dir, const std::string& needle) {
    for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
        if (!entry.is_regular_file()) continue;
        if (test::read_text(entry.path()).find(needle) != std::string::npos) return true;
    }
    return false;
}

std::vector<Json::Value> json_lines(const std::string& out) {
    std::vector<Json::Value> lines;
    size_t start = 0;
    while (start < out.size()) {
        const size_t end = std::min(out.find('\n', start), out.size());
        auto j = json::parse_object(out.substr(start, end - start));
        REQUIRE_MESSAGE(j.is_ok(), out);
        lines.push_back(*j);
        start = end + 1;
    }
    return lines;
}

}  // namespace

TEST_CASE("a message to an offline user survives its sender's node, reaches them once on a third node, is read, and no node sees its text") {
    Network net;
    net.found();
    const auto alice = net.dir / "alice", bob = net.dir / "bob";
    register_user(net, alice, "+15555245554", net.ra.client_port);
    register_user(net, bob, "+15555245555", net.rb.client_port);
    // Each certificate is in its user's issuance log, and the audit from
    // any member counts what each member issued.
    auto r = user(alice, {"keys", "+15555245555", "--json"}, {net.ra.client_port}, net.dir.path());
    REQUIRE_MESSAGE(r.status == 0, r.err);
    CHECK(json_of(r)["issuer"].asString() == net.rb.node_id);
    CHECK(json_of(r)["current"].asBool());
    r = net.c->cli({"admin", "audit", "--json"});
    REQUIRE_MESSAGE(r.status == 0, r.err);
    const Json::Value audit = json_of(r);
    CHECK(audit["members_asked"].asUInt() == 3);
    CHECK(audit["unanswered"].empty());
    std::map<std::string, uint64_t> issued;
    for (const auto& i : audit["issuers"]) issued[i["node_id"].asString()] = i["certificates"].asUInt64();
    CHECK(issued == std::map<std::string, uint64_t>{{net.ra.node_id, 1}, {net.rb.node_id, 1}, {net.rc.node_id, 0}});
    r = net.c->cli({"admin", "audit"});
    REQUIRE_MESSAGE(r.status == 0, r.err);
    CHECK(r.out.find("1 certificates for 1 users") != std::string::npos);
    CHECK(net.c->cli({"admin", "audit", "--days", "40"}).status == 2);

    // Random, so that no compression on disk could hide it.
    const std::string secret = "meet at noon " + crypto::to_hex(crypto::sha256(net.dir.path().string()));

    // Alice, on node a, writes to Bob, who is offline; "stored" means two holders have it.
    r = user(alice, {"send", "+15555245555", secret, "--json"}, {net.ra.client_port}, net.dir.path());
    REQUIRE_MESSAGE(r.status == 0, r.err);
    const std::string id = json_of(r)["id"].asString();
    CHECK(id.size() == 32);

    // Her node dies at once.
    net.a->process->signal(SIGKILL);
    REQUIRE(net.a->process->wait(20s).has_value());

    // Bob logs in on node c and gets it, once.
    r = user(bob, {"inbox", "--json"}, {net.rc.client_port}, net.dir.path());
    REQUIRE_MESSAGE(r.status == 0, r.err);
    auto got = json_lines(r.out);
    REQUIRE(got.size() == 1);
    CHECK(got[0]["text"].asString() == secret);
    CHECK(got[0]["id"].asString() == id);
    const std::string alice_id = got[0]["from"].asString();
    r = user(bob, {"inbox", "--json"}, {net.rc.client_port}, net.dir.path());
    REQUIRE_MESSAGE(r.status == 0, r.err);
    CHECK(r.out.empty());
    r = user(bob, {"history", alice_id, "--json"}, {net.rc.client_port}, net.dir.path());
    REQUIRE_MESSAGE(r.status == 0, r.err);
    CHECK(json_lines(r.out).size() == 1);

    // He reads it; Alice, back on node b, sees it delivered and read.
    r = user(bob, {"read", alice_id}, {net.rc.client_port}, net.dir.path());
    REQUIRE_MESSAGE(r.status == 0, r.err);
    CHECK(r.out.find("1 message") != std::string::npos);
    r = user(alice, {"sent", "--json"}, {net.rb.client_port}, net.dir.path());
    REQUIRE_MESSAGE(r.status == 0, r.err);
    auto states = json_lines(r.out);
    REQUIRE(states.size() == 1);
    CHECK(states[0]["id"].asString() == id);
    CHECK(states[0]["state"].asString() == "read");

    // His reply reaches her on node b.
    r = user(bob, {"send", alice_id, "see you there"}, {net.rc.client_port}, net.dir.path());
    REQUIRE_MESSAGE(r.status == 0, r.err);
    r = user(alice, {"inbox"}, {net.rb.client_port}, net.dir.path());
    REQUIRE_MESSAGE(r.status == 0, r.err);
    CHECK(r.out.find("see you there") != std::string::npos);

    // Alice turns read receipts off: she reads his reply, and he sees it
    // delivered only.
    r = user(alice, {"privacy", "receipts", "off"}, {net.rb.client_port}, net.dir.path());
    REQUIRE_MESSAGE(r.status == 0, r.err);
    CHECK(r.out.find("receipts off") != std::string::npos);
    r = user(alice, {"read", "+15555245555", "--json"}, {net.rb.client_port}, net.dir.path());
    REQUIRE_MESSAGE(r.status == 0, r.err);
    CHECK(json_of(r)["read"].asUInt64() == 1);
    CHECK_FALSE(json_of(r)["told"].asBool());
    r = user(bob, {"sent", alice_id, "--json"}, {net.rc.client_port}, net.dir.path());
    REQUIRE_MESSAGE(r.status == 0, r.err);
    states = json_lines(r.out);
    REQUIRE(states.size() == 1);
    CHECK(states[0]["state"].asString() == "delivered");
    r = user(alice, {"privacy", "receipts", "maybe"}, {net.rb.client_port}, net.dir.path());
    CHECK(r.status == 2);

    // Bob follows his inbox through node c: Alice's next message is pushed
    // to him as it comes (a fetch would not come for a minute).
    test::Process follow({test::cli_bin(), "inbox", "--follow", "--json", "--profile", bob.string(), "--node",
                          "127.0.0.1:" + std::to_string(net.rc.client_port)},
                         net.dir / "follow.out", net.dir / "follow.err");
    INFO("bob's inbox --follow printed:\n" << test::read_text(net.dir / "follow.out") << test::read_text(net.dir / "follow.err"));
    REQUIRE(test::wait_until([&] { return test::read_text(net.dir / "follow.err").find("following") != std::string::npos; }, 20s));
    r = user(alice, {"send", "+15555245555", "pushed to you"}, {net.rb.client_port}, net.dir.path());
    REQUIRE_MESSAGE(r.status == 0, r.err);
    CHECK(test::wait_until([&] { return test::read_text(net.dir / "follow.out").find("pushed to you") != std::string::npos; }, 10s));
    follow.signal(SIGTERM);
    REQUIRE(follow.wait(10s).has_value());
    size_t texts = 0;
    for (const auto& line : json_lines(test::read_text(net.dir / "follow.out"))) texts += line.isMember("text");
    CHECK(texts == 1);  // once, though both holders pass it on

    // Clear errors, with the exit status of each kind.
    r = user(alice, {"send", "+15555245599", "anyone there?"}, {net.rb.client_port}, net.dir.path());
    CHECK(r.status == 1);
    CHECK(r.err.find("no such user") != std::string::npos);
    r = user(alice, {"send", "+15555245555", ""}, {net.rb.client_port}, net.dir.path());
    CHECK(r.status == 2);
    r = user(alice, {"send", "+15555245555", std::string(61 * 1024, 'x')}, {net.rb.client_port}, net.dir.path());
    CHECK(r.status == 2);
    CHECK(r.err.find("over the") != std::string::npos);

    // No node's data holds the text: only ciphertext was ever theirs.
    for (const char* node : {"a", "b", "c"}) {
        CAPTURE(node);
        CHECK_FALSE(found_in_files(net.dir / node, secret));
        CHECK_FALSE(found_in_files(net.dir / node, "see you there"));
    }
    CHECK(found_in_files(bob, secret));  // his history
}

TEST_CASE("a user's second device: contacts accept it once, messages reach both devices and copies of what one sends reach the other; a removed device gets nothing more; a waiting message survives a restart of the whole network") {
    Network net;
    net.found();
    const auto alice = net.dir / "alice", bob = net.dir / "bob", bob_new_phone = net.dir / "bob-new-phone";
    register_user(net, alice, "+15555245554", net.ra.client_port);
    register_user(net, bob, "+15555245555", net.rb.client_port);
    auto r = user(alice, {"send", "+15555245555", "before"}, {net.ra.client_port}, net.dir.path());
    REQUIRE_MESSAGE(r.status == 0, r.err);
    r = user(bob, {"inbox"}, {net.rb.client_port}, net.dir.path());
    REQUIRE_MESSAGE(r.status == 0, r.err);
    CHECK(r.out.find("before") != std::string::npos);

    // Bob registers his number again on a new phone: a second device, with
    // a key of its own. Alice's client shows it before encrypting to it.
    register_user(net, bob_new_phone, "+15555245555", net.rc.client_port);
    r = user(alice, {"send", "+15555245555", "after"}, {net.ra.client_port}, net.dir.path());
    CHECK(r.status == 1);
    CHECK(r.err.find("has a new device") != std::string::npos);
    CHECK(r.err.find("dhtalk trust") != std::string::npos);
    // His old phone is told of the new one.
    r = user(bob, {"devices", "--json"}, {net.rb.client_port}, net.dir.path());
    REQUIRE_MESSAGE(r.status == 0, r.err);
    const auto devices = json_of(r)["devices"];
    REQUIRE(devices.size() == 2);
    std::string old_phone_id, new_phone_id;
    for (const auto& d : devices) (d["current"].asBool() ? old_phone_id : new_phone_id) = d["id"].asString();
    CHECK_FALSE(old_phone_id.empty());
    CHECK_FALSE(new_phone_id.empty());

    // His first message from the new phone waits in her inbox, not shown, not lost.
    r = user(bob_new_phone, {"send", "+15555245554", "from my new phone"}, {net.rc.client_port}, net.dir.path());
    REQUIRE_MESSAGE(r.status == 0, r.err);
    r = user(alice, {"inbox"}, {net.ra.client_port}, net.dir.path());
    REQUIRE_MESSAGE(r.status == 0, r.err);
    CHECK(r.out.find("from my new phone") == std::string::npos);
    CHECK(r.err.find("dhtalk trust") != std::string::npos);
    // His old phone has a copy of what he sent from the new one.
    r = user(bob, {"history", "+15555245554"}, {net.rb.client_port}, net.dir.path());
    REQUIRE_MESSAGE(r.status == 0, r.err);
    CHECK(r.out.find("from my new phone") == std::string::npos);  // not fetched yet
    r = user(bob, {"inbox"}, {net.rb.client_port}, net.dir.path());
    REQUIRE_MESSAGE(r.status == 0, r.err);
    CHECK(r.out.find("from my new phone") == std::string::npos);  // his own, not received
    r = user(bob, {"history", "+15555245554"}, {net.rb.client_port}, net.dir.path());
    REQUIRE_MESSAGE(r.status == 0, r.err);
    CHECK(r.out.find("from my new phone") != std::string::npos);

    // She checks with him and accepts it: his message opens, and hers
    // reaches both his phones.
    r = user(alice, {"trust", "+15555245555", "--json"}, {net.ra.client_port}, net.dir.path());
    REQUIRE_MESSAGE(r.status == 0, r.err);
    CHECK(json_of(r)["changed"].asBool());
    CHECK(json_of(r)["issuer"].asString() == net.rc.node_id);
    r = user(alice, {"inbox"}, {net.ra.client_port}, net.dir.path());
    REQUIRE_MESSAGE(r.status == 0, r.err);
    CHECK(r.out.find("from my new phone") != std::string::npos);
    r = user(alice, {"send", "+15555245555", "after"}, {net.ra.client_port}, net.dir.path());
    REQUIRE_MESSAGE(r.status == 0, r.err);
    for (const auto& [phone, port] : {std::pair{bob_new_phone, net.rc.client_port}, std::pair{bob, net.rb.client_port}}) {
        r = user(phone, {"inbox"}, {port}, net.dir.path());
        REQUIRE_MESSAGE(r.status == 0, r.err);
        CHECK(r.out.find("after") != std::string::npos);
    }

    // From the new phone he removes the old one: it gets nothing more.
    r = user(bob_new_phone, {"devices", "remove", old_phone_id, "--json"}, {net.rc.client_port}, net.dir.path());
    REQUIRE_MESSAGE(r.status == 0, r.err);
    CHECK(json_of(r)["devices"].size() == 1);
    CHECK(json_of(r)["removed"][0].asString() == old_phone_id);

    // A message waiting for him survives a restart of the whole network,
    // and reaches the new phone only.
    r = user(alice, {"send", "+15555245555", "across a restart"}, {net.ra.client_port}, net.dir.path());
    REQUIRE_MESSAGE(r.status == 0, r.err);
    // (Asked before the restart: right after one, a node whose DHT has not
    // answered yet serves the copy it holds itself, here the list from
    // before the new phone.)
    r = user(bob, {"inbox"}, {net.rb.client_port}, net.dir.path());
    CHECK(r.status == 1);
    CHECK(r.err.find("was removed") != std::string::npos);
    CHECK(r.out.find("across a restart") == std::string::npos);
    net.restart_all();
    r = user(bob_new_phone, {"inbox"}, {net.rc.client_port}, net.dir.path());
    REQUIRE_MESSAGE(r.status == 0, r.err);
    CHECK(r.out.find("across a restart") != std::string::npos);
}

TEST_CASE("a node's bounds reach the client as clear errors (messages, registrations per address), and a message past its time expires unread") {
    test::TempDir dir;
    test::NodeProcess node(dir / "a", test::with({"--genesis", "--network", "bounds-test", "--message-ttl-seconds", "3",
                                                  "--inbox-pair-messages", "2", "--max-message-kib", "1",
                                                  "--registrations-per-address", "2"},
                                                 kFast));
    const RuntimeInfo r = node.wait_ready();
    auto enrol = [&](const std::filesystem::path& profile, const std::string& phone) {
        auto res = user(profile, {"register", phone}, {r.client_port}, dir.path());
        REQUIRE_MESSAGE(res.status == 0, res.err);
        res = user(profile, {"verify", test::verification_code({dir / "a"}, phone)}, {r.client_port}, dir.path());
        REQUIRE_MESSAGE(res.status == 0, res.err);
    };
    const auto alice = dir / "alice", bob = dir / "bob";
    enrol(alice, "+15555245554");
    enrol(bob, "+15555245555");
    // Two codes asked from 127.0.0.1: a third number from it waits.
    auto refused = user(dir / "carol", {"register", "+15555245556"}, {r.client_port}, dir.path());
    CHECK(refused.status != 0);
    CHECK_MESSAGE(refused.err.find("too many registration attempts from this address") != std::string::npos, refused.err);

    // Bob is offline: two messages from Alice wait for him, the third is over the pair's bound.
    for (const char* text : {"one", "two"}) {
        auto res = user(alice, {"send", "+15555245555", text}, {r.client_port}, dir.path());
        REQUIRE_MESSAGE(res.status == 0, res.err);
    }
    auto res = user(alice, {"send", "+15555245555", "three"}, {r.client_port}, dir.path());
    CHECK(res.status == 1);
    CHECK(res.err.find("too many of your messages wait") != std::string::npos);
    // A body over the node's 1 KiB.
    res = user(alice, {"send", "+15555245555", std::string(2000, 'x')}, {r.client_port}, dir.path());
    CHECK(res.status == 2);
    CHECK(res.err.find("over the limit of 1024") != std::string::npos);

    // Past the 3 s: dropped undelivered, and reported so to Alice.
    std::this_thread::sleep_for(4500ms);
    res = user(alice, {"sent", "--json"}, {r.client_port}, dir.path());
    REQUIRE_MESSAGE(res.status == 0, res.err);
    auto states = json_lines(res.out);
    REQUIRE(states.size() == 2);
    for (const auto& s : states) CHECK(s["state"].asString() == "expired");
    res = user(bob, {"inbox", "--json"}, {r.client_port}, dir.path());
    REQUIRE_MESSAGE(res.status == 0, res.err);
    CHECK(res.out.empty());
    // The pair's room is free again.
    res = user(alice, {"send", "+15555245555", "four"}, {r.client_port}, dir.path());
    CHECK_MESSAGE(res.status == 0, res.err);
}

TEST_CASE("a client learns every member from one node, fails over to one it was never given, and a busy node sends logins on") {
    Network net;
    // c sends on every login beyond its first session, to members with room
    // below its mark: a third of their capacity (10,000), whatever load they
    // last reported.
    net.found({"--redirect-above", "1", "--max-client-sessions", "3"});
    auto endpoint = [](const RuntimeInfo& r) { return "127.0.0.1:" + std::to_string(r.client_port); };
    const std::map<std::string, std::string> where{
        {net.ra.node_id, endpoint(net.ra)}, {net.rb.node_id, endpoint(net.rb)}, {net.rc.node_id, endpoint(net.rc)}};
    const auto alice = net.dir / "alice", bob = net.dir / "bob";
    register_user(net, alice, "+15550300001", net.ra.client_port);
    register_user(net, bob, "+15550300002", net.rb.client_port);

    // Every member's client endpoint, from a node that only knows its own
    // at start: each port was picked when its node started, so what the
    // roster recorded at admission was moved by a signed member update.
    // c lists a and b alive with their load once its membership protocol
    // has heard from them.
    Json::Value listed;
    auto lists_everyone = [&] {
        auto r = user(alice, {"nodes", "--json"}, {net.rc.client_port}, net.dir.path());
        if (r.status != 0) return false;
        listed = json_of(r)["nodes"];
        if (listed.size() != 3) return false;
        for (const auto& n : listed) {
            const std::string id = n["node_id"].asString();
            if (!where.count(id) || n["endpoints"].size() != 1 || n["endpoints"][0].asString() != where.at(id))
                return false;
            if (id != net.rc.node_id && (n["state"].asString() != "alive" || n["capacity"].asUInt() == 0)) return false;
        }
        return true;
    };
    REQUIRE_MESSAGE(test::wait_until(lists_everyone, 30s), json::to_pretty(listed));
    auto text = user(alice, {"nodes"}, {net.rc.client_port}, net.dir.path());
    CHECK(text.status == 0);
    CHECK(test::contains(text.out, "3 members"));
    CHECK(test::contains(text.out, where.at(net.rb.node_id)));

    // A login learns the list; with the only node given down, the client
    // goes on through the others.
    auto r = user(alice, {"vcard", "set", "--name", "Alice"}, {net.ra.client_port}, net.dir.path());
    REQUIRE_MESSAGE(r.status == 0, r.err);
    auto me = json_of(user(alice, {"whoami", "--json"}, {}, net.dir.path()));
    CHECK(me["nodes"].size() == 3);
    CHECK(me["nodes"][0].asString() == where.at(net.ra.node_id));

    // A session held on c puts it over its threshold: bob's login there is
    // sent on to a or b, and stays there. (The sessions above have closed
    // first, or the watcher's login would be sent on too.)
    REQUIRE(test::wait_until([&] { return net.c->status_json()["client_sessions"].asUInt() == 0; }, 20s));
    test::Process watch({test::cli_bin(), "presence", "watch", "+15550300002", "--profile", alice.string(), "--node",
                         where.at(net.rc.node_id)},
                        net.dir / "watch.out", net.dir / "watch.err");
    REQUIRE(test::wait_until([&] { return net.c->status_json()["client_users"].asUInt() >= 1; }, 20s));
    r = user(bob, {"presence", "set", "available"}, {net.rc.client_port}, net.dir.path());
    REQUIRE_MESSAGE(r.status == 0, r.err);
    auto bob_nodes = json_of(user(bob, {"whoami", "--json"}, {}, net.dir.path()))["nodes"];
    REQUIRE(bob_nodes.size() == 3);
    const std::string bob_at = bob_nodes[0].asString();
    CHECK((bob_at == where.at(net.ra.node_id) || bob_at == where.at(net.rb.node_id)));
    // c keeps the watcher it had, and no longer bob.
    CHECK(test::wait_until([&] { return net.c->status_json()["client_sessions"].asUInt() == 1; }, 20s));
    // The node's side of the bound on redirect loops: a login that says it
    // followed kMaxRedirects already is kept, busy or not.
    auto profile = client::Profile::load(bob).value();
    auto credentials =
        crypto::TlsCredentials::with_certificate(*crypto::parse_certificate(profile.certificate).value(), *profile.key)
            .value();
    auto session = client::ClientConnection::open(where.at(net.rc.node_id), credentials, 10s).value();
    CHECK(session->call("hello", {{"redirects", uint64_t{0}}}, 10s).value().has("redirect"));
    CHECK_FALSE(session->call("hello", {{"redirects", kMaxRedirects}}, 10s).value().has("redirect"));
    session.reset();
    watch.signal(SIGTERM);
    watch.wait(10s);

    net.a->process->signal(SIGTERM);
    REQUIRE(net.a->process->wait(20s) == std::optional<int>(0));
    auto card = user(alice, {"vcard", "get", "--json"}, {}, net.dir.path());  // the profile's list, a first
    REQUIRE_MESSAGE(card.status == 0, card.err);
    CHECK(json_of(card)["name"].asString() == "Alice");
}

TEST_CASE("a picture sent from Alice to Bob downloads while the node she uploaded through is down, the others restore its copies, and no node holds its bytes in the clear") {
    Network net;
    net.found();
    const auto alice = net.dir / "alice", bob = net.dir / "bob";
    register_user(net, alice, "+15550400001", net.ra.client_port);
    register_user(net, bob, "+15550400002", net.rb.client_port);

    // 300 KiB that no node could compress or guess: five chunks and a manifest.
    std::string picture;
    for (int i = 0; picture.size() < 300 * 1024; ++i) picture += crypto::sha256(std::to_string(i) + net.dir.path().string());
    const auto path = net.dir / "cat.png";
    {
        std::ofstream(path, std::ios::binary) << picture;
    }
    auto r = user(alice, {"send", "+15550400002", "--file", path.string(), "--type", "image/png", "our cat", "--json"},
                  {net.ra.client_port}, net.dir.path());
    REQUIRE_MESSAGE(r.status == 0, r.err);
    CHECK(json_of(r)["file"]["name"].asString() == "cat.png");
    CHECK(json_of(r)["file"]["size"].asUInt64() == picture.size());

    // Each chunk is on two of the three nodes.
    uint64_t copies = 0;
    for (auto* n : {net.a.get(), net.b.get(), net.c.get()}) copies += n->status_json()["media_chunks"].asUInt64();
    CHECK(copies == 2 * 6);  // five chunks of the picture and its manifest, twice

    // The node she uploaded through dies at once.
    net.a->process->signal(SIGKILL);
    REQUIRE(net.a->process->wait(20s).has_value());

    // Bob, on node b, receives the message and the file, checked and decrypted.
    const auto saved = net.dir / "bob-files";
    r = user(bob, {"inbox", "--json", "--save-to", saved.string()}, {net.rb.client_port}, net.dir.path());
    REQUIRE_MESSAGE(r.status == 0, r.err);
    auto got = json_lines(r.out);
    REQUIRE(got.size() == 1);
    CHECK(got[0]["text"].asString() == "our cat");
    CHECK(got[0]["file"]["type"].asString() == "image/png");
    CHECK(got[0]["file"]["saved"].asString() == (saved / "cat.png").string());
    CHECK(test::read_text(saved / "cat.png") == picture);
    // Shown once: the next inbox has nothing new, and saves nothing again.
    r = user(bob, {"inbox", "--json", "--save-to", saved.string()}, {net.rb.client_port}, net.dir.path());
    REQUIRE_MESSAGE(r.status == 0, r.err);
    CHECK(json_lines(r.out).empty());

    // Once the others hold node a dead, they restore the second copy of
    // every chunk it held: b and c hold both.
    auto held_by_survivors = [&] {
        return net.b->status_json()["media_chunks"].asUInt64() + net.c->status_json()["media_chunks"].asUInt64();
    };
    CHECK_MESSAGE(test::wait_until([&] { return held_by_survivors() == copies; }, 90s), held_by_survivors());

    // A file over the size bound is refused before anything is uploaded.
    const auto huge = net.dir / "huge.bin";
    std::ofstream(huge, std::ios::binary).flush();
    std::filesystem::resize_file(huge, 101ull << 20);  // sparse
    r = user(alice, {"send", "+15550400002", "--file", huge.string()}, {net.rb.client_port}, net.dir.path());
    CHECK(r.status == 2);
    CHECK(test::contains(r.err, "100 MiB"));

    // No node's data directory holds a run of the picture's bytes.
    const std::string probe = picture.substr(100000, 64);
    for (const auto& d : {net.dir / "a", net.dir / "b", net.dir / "c"})
        for (const auto& f : std::filesystem::recursive_directory_iterator(d))
            if (f.is_regular_file()) CHECK_MESSAGE(test::read_text(f.path()).find(probe) == std::string::npos, f.path());
}
