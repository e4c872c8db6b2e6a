// The client front end of a real node (TLS on loopback, real OpenDHT, real
// RocksDB), driven through the client library: registration limits, logins
// that must be refused, requests that need a login or another user, frame
// bombs and malformed frames, connection limits, and values planted in the
// DHT by a stock OpenDHT peer that must never reach a client; and the node
// on the environment it is given (an in-memory store, codes recorded, work
// posted onto its loop); messages held until acknowledged; a key kept out
// of its user's issuance log refused; files uploaded, fetched back, and
// forged, oversized or over-quota chunks refused.
#include <opendht.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "client/attachment.h"
#include "client/end_to_end.h"
#include "dht/chunk_store.h"
#include "records/device_list.h"
#include "records/pre_key_bundle.h"
#include "testing/dht_client.h"
#include "net/inbox_message.h"
#include "testing/memory_node_env.h"
#include "tests/front_end_fixture.h"

using namespace dhtalk;
using namespace dhtalk::front_end_test;

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
    SUBCASE("a record whose sequence is not above the published one is refused by the edit rule") {
        Record r;
        r.type = RecordType::kVCard;
        r.user_id = alice->profile().user_id;
        r.sequence = 1;  // below the one set_vcard published
        r.expires_at_s = to_unix_seconds(std::chrono::system_clock::now()) + 3600;
        r.body = encode_vcard({"Old Alice", "", "", "", ""});
        r.certificate = alice->profile().certificate;
        auto s = alice->call("put", {{"record", seal_record(r, *alice->profile().key).value()}});
        CHECK(s.status().code() == Code::kPermissionDenied);
        CHECK(s.status().message().find("use a higher one") != std::string::npos);
        CHECK(bob->vcard(alice->profile().user_id)->name == "Alice");
    }
    SUBCASE("an unknown request and a bad user id get clear errors") {
        CHECK(alice->call("frobnicate", {}).status().message().find("unknown request") != std::string::npos);
        CHECK(alice->call("get", {{"type", std::string("vcard")}, {"user_id", std::string("nope")}}).status().code() ==
              Code::kInvalidArgument);
        CHECK(alice->call("get", {{"type", std::string("diary")}, {"user_id", alice->profile().user_id}}).status().code() ==
              Code::kInvalidArgument);
    }
}

TEST_CASE("a node keeps its state in the store its environment gives and sends codes through its sender") {
    test::TempDir dir;
    SystemClock clock;
    test::MemoryNodeEnv memory(clock);
    const NodeConfig config = front_end_config(dir.path());
    const std::string phone = "+15555245554";
    const std::string alice_id = crypto::derive_user_id("kontalk-sha1", phone).value();
    auto open_node = [&] {
        auto n = Node::open(config, memory.env());
        REQUIRE_MESSAGE(n.is_ok(), n.status().to_string());
        return std::move(n).value();
    };
    auto open_client = [&](const std::string& name, const Node& node) {
        client::ClientOptions o;
        o.profile_dir = dir / name;
        o.nodes = {"127.0.0.1:" + std::to_string(node.client_port())};
        o.timeout = 10s;
        return client::Client::open(o).value();
    };

    auto node = open_node();
    auto alice = open_client("alice", *node);
    REQUIRE(alice->register_number(phone).is_ok());
    const std::string code = memory.last_code(phone);
    REQUIRE(code.size() == 6);
    Status verified = alice->verify(code);
    REQUIRE_MESSAGE(verified.is_ok(), verified.to_string());
    REQUIRE(alice->set_vcard({"Alice", "in memory", "", "", ""}).is_ok());
    REQUIRE(node->snapshot().is_ok());
    REQUIRE(node->stop().is_ok());
    node.reset();
    // Nothing went to disk but the identity: no database, no code file.
    CHECK_FALSE(std::filesystem::exists(config.data_dir / "db"));
    CHECK_FALSE(std::filesystem::exists(config.sms_file));
    REQUIRE(memory.store(config.data_dir) != nullptr);

    // Reopened on the same store, the node restores the roster and the
    // vCard it held for the network: a single node has no peer to ask.
    node = open_node();
    auto bob = open_client("bob", *node);
    REQUIRE(bob->register_number("+15555245555").is_ok());
    REQUIRE(bob->verify(memory.last_code("+15555245555")).is_ok());
    auto card = bob->vcard(alice_id);
    REQUIRE_MESSAGE(card.is_ok(), card.status().to_string());
    CHECK(card->name == "Alice");
}

TEST_CASE("work posted to a node from another thread runs in its owner's next tick, and wakes the owner") {
    test::TempDir dir;
    SystemClock clock;
    test::MemoryNodeEnv memory(clock);
    NodeEnv env = memory.env();
    std::atomic<int> wakes{0};
    env.wake = [&] { wakes++; };
    auto opened = Node::open(front_end_config(dir.path()), env);
    REQUIRE_MESSAGE(opened.is_ok(), opened.status().to_string());
    auto node = std::move(opened).value();
    const int before = wakes;
    std::atomic<bool> ran{false};
    std::thread::id ran_on;
    std::thread([&] { node->post([&] { ran_on = std::this_thread::get_id(); ran = true; }); }).join();
    CHECK(wakes == before + 1);
    CHECK_FALSE(ran);  // not on the posting thread
    node->tick();
    CHECK(ran);
    CHECK(ran_on == std::this_thread::get_id());
    REQUIRE(node->stop().is_ok());
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

TEST_CASE("messages: held until acknowledged, retries held once, and malformed or foreign requests refused") {
    TestNode n;
    auto alice = n.user("alice", "+15555245554");
    auto bob = n.user("bob", "+15555245555");
    const std::string to_bob = bob->profile().user_id;
    auto send = [&](client::Client& c, const std::string& to, const std::string& id, const std::string& body) {
        return c.call("message.send", {{"to", to}, {"device", bob->device_id()}, {"id", id}, {"body", body}, {"sent_ms", uint64_t{1}}});
    };
    auto inbox_of = [&](client::Client& c) {
        std::vector<std::string> out;
        auto r = c.call("inbox.fetch", {});
        REQUIRE_MESSAGE(r.is_ok(), r.status().to_string());
        const auto messages = r->list("messages").value();
        for (const auto& bytes : messages) {
            auto m = decode_inbox_message(bytes).value();
            out.push_back(m.sender.substr(0, 4) + "/" + m.id + ":" + m.body);
        }
        return out;
    };
    const std::string a = alice->profile().user_id.substr(0, 4);

    auto sent = send(*alice, to_bob, "m1", "ciphertext one");
    REQUIRE_MESSAGE(sent.is_ok(), sent.status().to_string());
    CHECK(sent->text("id", 64).value() == "m1");
    REQUIRE(send(*alice, to_bob, "m1", "ciphertext one").is_ok());  // a retry
    REQUIRE(send(*alice, to_bob, "m2", "ciphertext two").is_ok());
    CHECK(inbox_of(*bob) == std::vector<std::string>{a + "/m1:ciphertext one", a + "/m2:ciphertext two"});
    CHECK(inbox_of(*alice).empty());  // each fetches their own inbox only

    const std::string from_alice = inbox_address(alice->profile().user_id, alice->device_id());
    REQUIRE(bob->call("inbox.ack", {{"messages", std::vector<std::string>{from_alice + "/m1"}}}).is_ok());
    CHECK(inbox_of(*bob) == std::vector<std::string>{a + "/m2:ciphertext two"});
    // A message acknowledged by someone else's client stays.
    REQUIRE(alice->call("inbox.ack", {{"messages", std::vector<std::string>{from_alice + "/m2"}}}).is_ok());
    CHECK(inbox_of(*bob).size() == 1);

    SUBCASE("messages need a login") {
        auto anon = n.connect();
        CHECK(call_status(*anon, "message.send", {{"to", to_bob}, {"id", std::string("x")}, {"body", std::string("b")},
                                                  {"sent_ms", uint64_t{1}}})
                  .code() == Code::kPermissionDenied);
        CHECK(call_status(*anon, "inbox.fetch").code() == Code::kPermissionDenied);
        CHECK(call_status(*anon, "inbox.ack", {{"messages", std::vector<std::string>{}}}).code() == Code::kPermissionDenied);
    }
    SUBCASE("malformed requests get clear errors and hold nothing") {
        auto code_of = [](const Result<ClientFrame>& r) { return r.status().code(); };
        CHECK(code_of(send(*alice, "not-a-user", "m3", "x")) == Code::kInvalidArgument);
        CHECK(code_of(send(*alice, to_bob, "../m3", "x")) == Code::kInvalidArgument);
        CHECK(code_of(send(*alice, to_bob, "", "x")) == Code::kInvalidArgument);
        CHECK(code_of(send(*alice, to_bob, "m3", "")) == Code::kInvalidArgument);
        CHECK(code_of(send(*alice, to_bob, "m3", std::string(kMaxMessageBytes + 1, 'x'))) == Code::kInvalidArgument);
        CHECK(code_of(alice->call("message.send", {{"to", to_bob}, {"id", std::string("m3")}})) == Code::kInvalidArgument);
        // A device id out of shape, none, or the sender's own device.
        CHECK(code_of(alice->call("message.send", {{"to", to_bob}, {"device", std::string("ABC")}, {"id", std::string("m3")},
                                                   {"body", std::string("x")}, {"sent_ms", uint64_t{1}}})) == Code::kInvalidArgument);
        CHECK(code_of(alice->call("message.send", {{"to", to_bob}, {"id", std::string("m3")}, {"body", std::string("x")},
                                                   {"sent_ms", uint64_t{1}}})) == Code::kInvalidArgument);
        CHECK(code_of(alice->call("message.send", {{"to", alice->profile().user_id}, {"device", alice->device_id()},
                                                   {"id", std::string("m3")}, {"body", std::string("x")},
                                                   {"sent_ms", uint64_t{1}}})) == Code::kInvalidArgument);
        CHECK(code_of(bob->call("inbox.ack", {{"messages", std::vector<std::string>{"no-slash"}}})) ==
              Code::kInvalidArgument);
        CHECK(code_of(bob->call("inbox.ack", {{"messages", std::vector<std::string>{"a/../b"}}})) ==
              Code::kInvalidArgument);
        CHECK(inbox_of(*bob).size() == 1);
    }
}

TEST_CASE("a sender over its rate of messages is told so, and what it sent before stays held") {
    TestNode n(false, 64, [](NodeConfig& c) { c.messages_per_second = 1; });  // a burst of 2
    auto alice = n.user("alice", "+15555245554");
    auto bob = n.user("bob", "+15555245555");
    auto send = [&](const std::string& id) {
        return alice->call("message.send", {{"to", bob->profile().user_id}, {"device", bob->device_id()}, {"id", id}, {"body", std::string("x")},
                                            {"sent_ms", uint64_t{1}}});
    };
    // Ten at once: past the burst of two some are refused, however slow the
    // machine (a token comes back each second).
    size_t accepted = 0, refused = 0;
    for (int i = 0; i < 10; ++i) {
        auto r = send("m" + std::to_string(i));
        if (r.is_ok()) {
            accepted++;
            continue;
        }
        CHECK(r.status().code() == Code::kResourceExhausted);
        CHECK(r.status().message().find("too fast") != std::string::npos);
        refused++;
    }
    CHECK(accepted >= 2);
    CHECK(refused >= 1);
    auto held = bob->call("inbox.fetch", {});
    REQUIRE(held.is_ok());
    CHECK(held->list("messages").value().size() == accepted);
}

TEST_CASE("a message from a sender the recipient's privacy list refuses never reaches the recipient, and its sender cannot tell") {
    TestNode n;
    auto alice = n.user("alice", "+15555245554");
    auto bob = n.user("bob", "+15555245555");
    auto carol = n.user("carol", "+15555245556");
    const std::string to_bob = bob->profile().user_id;
    const std::string alice_id = alice->profile().user_id, carol_id = carol->profile().user_id;
    auto send = [&](client::Client& c, const std::string& id) {
        return c.call("message.send", {{"to", to_bob}, {"device", bob->device_id()}, {"id", id}, {"body", std::string("ciphertext")},
                                       {"sent_ms", uint64_t{1}}});
    };
    auto senders = [&] {
        std::vector<std::string> out;
        auto r = bob->call("inbox.fetch", {});
        REQUIRE_MESSAGE(r.is_ok(), r.status().to_string());
        const auto messages = r->list("messages").value();
        for (const auto& bytes : messages) {
            auto m = decode_inbox_message(bytes);
            REQUIRE_MESSAGE(m.is_ok(), m.status().to_string());
            out.emplace_back(address_user(m->sender));
        }
        return out;
    };
    auto privacy = [&](bool allow_only, std::vector<std::string> blocked, std::vector<std::string> allowed) {
        REQUIRE(bob->call("privacy.set", {{"allow_only", allow_only}, {"blocked", blocked}, {"allowed", allowed}}).is_ok());
    };

    // Bob blocks Alice: her message is "stored" as any other, and never handed to him.
    privacy(false, {alice_id}, {});
    REQUIRE(send(*alice, "a1").is_ok());
    REQUIRE(send(*carol, "c1").is_ok());
    CHECK(senders() == std::vector<std::string>{carol_id});
    // It is gone, not waiting: unblocked, he still never gets it.
    privacy(false, {}, {});
    CHECK(senders() == std::vector<std::string>{carol_id});

    // Allow-only: only the allowed reach him.
    privacy(true, {}, {carol_id});
    REQUIRE(send(*alice, "a2").is_ok());
    REQUIRE(send(*carol, "c2").is_ok());
    const auto got = senders();
    CHECK(std::count(got.begin(), got.end(), alice_id) == 0);
    CHECK(std::count(got.begin(), got.end(), carol_id) == 2);
}

TEST_CASE("a key its issuer kept out of the user's issuance log is refused: a member cannot issue in secret") {
    TestNode n;
    auto alice = n.user("alice", "+15555245554");
    auto bob = n.user("bob", "+15555245555");
    auto carol = n.user("carol", "+15555245556");
    const std::string bob_id = bob->profile().user_id;
    REQUIRE(bob->publish_keys().is_ok());
    // The log has Bob's certificate (in a network of one, from the node's own copy).
    auto logged = alice->issued_keys(bob_id);
    REQUIRE_MESSAGE(logged.is_ok(), logged.status().to_string());
    REQUIRE(logged->size() == 1);
    CHECK(logged->front().current);
    CHECK(logged->front().certificate == bob->profile().certificate);
    auto sent = alice->send_message(bob_id, "hello Bob");
    REQUIRE_MESSAGE(sent.is_ok(), sent.status().to_string());

    // The member signs a certificate for Bob's id and a key of its own,
    // without the front end (so without the log), and publishes keys for
    // Bob under it: every storing node takes them, the certificate is valid.
    auto self = crypto::load_or_create_identity(n.dir / "node" / "identity").value();
    auto forged_key = crypto::generate_user_key().value();
    const std::string forged_pem = issue_for(self, *forged_key, bob_id, n.node->trust()->network_id());
    auto forged_cert = crypto::parse_certificate(forged_pem).value();
    auto e2e = client::EndToEnd::open(n.dir / "forged-e2e").value();
    Record r;
    r.type = RecordType::kPreKeys;
    r.user_id = bob_id;
    r.certificate = forged_pem;
    r.sequence = static_cast<uint64_t>(to_unix_millis(std::chrono::system_clock::now())) + 60'000;
    r.expires_at_s = to_unix_seconds(std::chrono::system_clock::now()) + 86400;
    const std::string forged_device = crypto::inspect_user_certificate(*forged_cert).value().device_id;
    r.locator = device_locator(forged_device);
    r.body = encode_pre_key_bundle(e2e->bundle().value()).value();
    auto conn = n.connect(crypto::TlsCredentials::with_certificate(*forged_cert, *forged_key).value());
    REQUIRE(call_status(*conn, "put", {{"record", seal_record(r, *forged_key).value()}}).is_ok());
    // And a device list naming its device alone, as Bob's.
    Record devices = r;
    devices.type = RecordType::kDevices;
    devices.locator.clear();
    devices.body = encode_device_list(DeviceList{{{forged_device, 1, "forged"}}, {}}).value();
    REQUIRE(call_status(*conn, "put", {{"record", seal_record(devices, *forged_key).value()}}).is_ok());

    // A log asked for something that is no user id is refused.
    CHECK(call_status(*conn, "issued", {{"user_id", std::string("../etc")}}).code() == Code::kInvalidArgument);
    CHECK(call_status(*conn, "issued", {{"user_id", std::string(65, 'a')}}).code() == Code::kInvalidArgument);
    CHECK(call_status(*conn, "issued", {}).code() == Code::kInvalidArgument);

    // Carol, who never wrote to Bob, is not fooled: the key is not in his log.
    auto refused = carol->send_message(bob_id, "hello Bob?");
    REQUIRE_FALSE(refused.is_ok());
    CHECK(refused.status().code() == Code::kPermissionDenied);
    CHECK(refused.status().message().find("not in their issuance log") != std::string::npos);
    logged = carol->issued_keys(bob_id);
    REQUIRE(logged.is_ok());
    REQUIRE(logged->size() == 1);
    CHECK_FALSE(logged->front().current);
}

TEST_CASE("files: chunks are held by their hash, fetched back, and forged, oversized or over-quota uploads refused") {
    TestNode n(false, 64, [](NodeConfig& c) {
        c.media_quota_mib = 1;
        c.max_file_mib = 2;
    });
    auto alice = n.user("alice", "+15555245554");
    auto bob = n.user("bob", "+15555245555");

    // A whole file, through the client library: Bob downloads what Alice
    // uploaded, checked and decrypted; the node held only ciphertext.
    const auto picture = n.dir / "picture.bin";
    std::string bytes;
    for (int i = 0; i < 150000; ++i) bytes.push_back(static_cast<char>(i * 7 % 251));
    {
        std::ofstream(picture, std::ios::binary) << bytes;
    }
    auto call_as = [](client::Client& c) {
        return [&c](const std::string& method, std::vector<FrameParams> p) { return c.call_batch(method, std::move(p)); };
    };
    auto sent = client::upload_file(call_as(*alice), picture, "image/png", 100 << 20, {});
    REQUIRE_MESSAGE(sent.is_ok(), sent.status().to_string());
    CHECK(sent->manifest.size() == 1);
    REQUIRE(client::download_file(call_as(*bob), *sent, n.dir / "received.bin", {}).is_ok());
    CHECK(test::read_text(n.dir / "received.bin") == bytes);
    CHECK(client::download_file(call_as(*bob), *sent, n.dir / "received.bin", {}).code() == Code::kInvalidArgument);
    auto wrong_key = *sent;  // a descriptor with another key: the chunks do not open
    wrong_key.key = std::string(32, 'x');
    CHECK(client::download_file(call_as(*bob), wrong_key, n.dir / "forged.bin", {}).code() == Code::kCorruption);
    CHECK_FALSE(std::filesystem::exists(n.dir / "forged.bin"));
    CHECK_FALSE(std::filesystem::exists(n.dir / "forged.bin.part"));

    // Raw requests: a chunk under another chunk's name, oversized, for a file
    // over the node's size bound, an unknown chunk, and no login.
    auto put = [&](const std::string& id, const std::string& data, uint64_t file_bytes = 1000) {
        return alice->call("media.put", {{"id", id}, {"data", data}, {"file_bytes", file_bytes}});
    };
    const std::string chunk(1000, 'c');
    const std::string id = crypto::to_hex(crypto::sha256(chunk));
    CHECK(test::contains(put(crypto::to_hex(crypto::sha256("other")), chunk).status().message(), "do not match"));
    CHECK(put("not-an-id", chunk).status().code() == Code::kInvalidArgument);
    const std::string big(kMaxChunkBytes + 1, 'b');
    CHECK(put(crypto::to_hex(crypto::sha256(big)), big).status().code() == Code::kInvalidArgument);
    CHECK(test::contains(put(id, chunk, 3ull << 20).status().message(), "at most 2 MiB"));
    CHECK(put(id, chunk).is_ok());
    CHECK(alice->call("media.get", {{"id", id}})->text("data", kMaxChunkBytes).value() == chunk);
    CHECK(alice->call("media.get", {{"id", crypto::to_hex(crypto::sha256("never"))}}).status().code() == Code::kNotFound);
    auto anonymous = n.connect();
    CHECK(call_status(*anonymous, "media.get", {{"id", id}}).code() == Code::kPermissionDenied);

    // Alice's quota here is 1 MiB: her uploads stop with a clear error
    // before it is passed, Bob's still go.
    Status last = Status::ok();
    for (int i = 0; i < 40 && last; ++i) {
        const std::string c(64 * 1024, static_cast<char>('A' + i));
        last = put(crypto::to_hex(crypto::sha256(c)), c).status();
    }
    CHECK(last.code() == Code::kResourceExhausted);
    CHECK(test::contains(last.message(), "quota"));
    const std::string bobs(2000, 'q');
    CHECK(bob->call("media.put", {{"id", crypto::to_hex(crypto::sha256(bobs))}, {"data", bobs}, {"file_bytes", uint64_t{2000}}})
              .is_ok());
}

TEST_CASE("an upload and a download that stop go on from where they stopped") {
    TestNode n;
    auto alice = n.user("alice", "+15555245554");
    const auto file = n.dir / "big.bin";
    std::string bytes;
    for (int i = 0; bytes.size() < 40 * client::kFileChunkBytes + 1000; ++i)
        bytes += crypto::sha256(std::to_string(i));
    {
        std::ofstream(file, std::ios::binary) << bytes;
    }
    // The connection "drops" after `budget` requests of the kind given (a
    // batch that would pass it is lost whole).
    auto flaky = [&](const std::string& kind, int budget, int& made) {
        return [&, kind, budget](const std::string& method,
                                 std::vector<FrameParams> p) -> Result<std::vector<ClientFrame>> {
            if (method == kind) {
                made += static_cast<int>(p.size());
                if (made > budget) return Status::unavailable("the connection dropped");
            }
            return alice->call_batch(method, std::move(p));
        };
    };
    int made = 0;
    const auto resume = n.dir / "alice" / "uploads";
    CHECK(client::upload_file(flaky("media.put", 20, made), file, "", 100 << 20, {}, resume).status().code() ==
          Code::kUnavailable);
    made = 0;
    auto sent = client::upload_file(flaky("media.put", 1000, made), file, "", 100 << 20, {}, resume);
    REQUIRE_MESSAGE(sent.is_ok(), sent.status().to_string());
    CHECK(made == 41 - 16 + 1);  // the chunks from the last saved point (16 of 41), and the manifest
    CHECK(std::filesystem::is_empty(resume));  // nothing kept once done
    made = 0;
    CHECK(client::upload_file(flaky("media.put", 1000, made), file, "", 100 << 20, {}, resume).is_ok());
    CHECK(made == 42);  // a new send of the same file starts afresh

    made = 0;
    const auto out = n.dir / "got.bin";
    CHECK(client::download_file(flaky("media.get", 11, made), *sent, out, {}).code() == Code::kUnavailable);
    CHECK_FALSE(std::filesystem::exists(out));
    // The manifest and the first window of 8 came; the second was lost whole.
    CHECK(std::filesystem::file_size(out.string() + ".part") == 8 * client::kFileChunkBytes);
    made = 0;
    Status resumed = client::download_file(flaky("media.get", 1000, made), *sent, out, {});
    REQUIRE_MESSAGE(resumed.is_ok(), resumed.to_string());
    CHECK(made == 1 + 41 - 8);
    CHECK(test::read_text(out) == bytes);
    CHECK_FALSE(std::filesystem::exists(out.string() + ".part"));
}
