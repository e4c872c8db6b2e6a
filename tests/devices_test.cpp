// A user's devices through a real node's front end (docs/devices.md): a
// message reaches every device of its recipient and a copy reaches the
// sender's other devices; a removed device gets nothing more; device lists
// that are forged, that bring back a removed device or that are out of
// shape are refused by the node, and a pre-key bundle at another device's
// place too.
#include <algorithm>
#include <fstream>

#include "client/client.h"
#include "records/device_list.h"
#include "records/pre_key_bundle.h"
#include "net/inbox_message.h"
#include "tests/front_end_fixture.h"

using namespace dhtalk;
using namespace dhtalk::front_end_test;

namespace {

std::unique_ptr<client::Client> device_of(TestNode& n, const std::string& name, const std::string& phone) {
    auto c = n.user(name, phone);
    Status published = c->publish_keys();  // its bundle, then itself on the user's list
    REQUIRE_MESSAGE(published.is_ok(), published.to_string());
    return c;
}

// A device list record of `c`'s user, signed by `c`'s device.
std::string signed_list(client::Client& c, const DeviceList& list) {
    Record r;
    r.type = RecordType::kDevices;
    r.user_id = c.profile().user_id;
    r.certificate = c.profile().certificate;
    r.sequence = static_cast<uint64_t>(to_unix_millis(std::chrono::system_clock::now())) + 60'000;
    r.expires_at_s = to_unix_seconds(std::chrono::system_clock::now()) + 86400;
    r.body = encode_device_list(list).value();
    return seal_record(r, *c.profile().key).value();
}

DeviceList published_list(client::Client& reader, const std::string& user_id) {
    auto got = reader.call("get", {{"type", std::string("devices")}, {"user_id", user_id}});
    REQUIRE_MESSAGE(got.is_ok(), got.status().to_string());
    auto opened = open_record(got->text("record", kMaxRecordBytes).value());
    REQUIRE(opened.is_ok());
    return decode_device_list(opened->record.body).value();
}

}  // namespace

TEST_CASE("devices: a message reaches each device of its recipient and a copy the sender's others; a removed device gets nothing more") {
    TestNode n;
    auto alice = device_of(n, "alice", "+15555245554");
    auto alice_tablet = device_of(n, "alice-tablet", "+15555245554");
    auto bob = device_of(n, "bob", "+15555245555");
    auto bob_laptop = device_of(n, "bob-laptop", "+15555245555");
    const std::string alice_id = alice->profile().user_id, bob_id = bob->profile().user_id;
    CHECK(alice->device_id() != alice_tablet->device_id());
    CHECK(crypto::is_device_id(bob->device_id()));

    // Bob's phone lists both, and sees the laptop as added since it looked.
    auto listed = bob->devices();
    REQUIRE_MESSAGE(listed.is_ok(), listed.status().to_string());
    REQUIRE(listed->devices.size() == 2);
    for (const auto& d : listed->devices) {
        CHECK(d.current == (d.id == bob->device_id()));
        CHECK(d.new_here == (d.id == bob_laptop->device_id()));
    }
    CHECK(bob->devices()->devices[1].new_here == false);  // told once

    // Alice's first message reaches both of Bob's devices. Her tablet,
    // new to this profile, gets a copy: she is told of it as she sends, once.
    auto sent = alice->send_message(bob_id, "hello both");
    REQUIRE_MESSAGE(sent.is_ok(), sent.status().to_string());
    const auto notices = alice->take_notices();
    REQUIRE(notices.size() == 1);
    CHECK(notices[0] == alice->new_device_notice(alice_tablet->device_id()));
    CHECK(alice->take_notices().empty());
    for (auto* device : {bob.get(), bob_laptop.get()}) {
        auto got = device->receive_messages();
        REQUIRE_MESSAGE(got.is_ok(), got.status().to_string());
        REQUIRE(got->messages.size() == 1);
        CHECK(got->messages[0].text == "hello both");
        CHECK(got->messages[0].peer == alice_id);
        CHECK(got->messages[0].id == sent->id);
        REQUIRE(device->mark_shown(got->messages).is_ok());
    }
    // Her tablet gets a copy: in its history as sent, not as received; and
    // the receipts of both of Bob's devices reach it too.
    std::vector<std::string> problems;
    auto states = alice_tablet->sent_messages(bob_id, &problems);
    REQUIRE_MESSAGE(states.is_ok(), states.status().to_string());
    CHECK(problems.empty());
    REQUIRE(states->size() == 1);
    CHECK(states->front().first.text == "hello both");
    CHECK(states->front().first.id == sent->id);
    CHECK(states->front().second == client::SentState::kDelivered);
    CHECK(alice_tablet->receive_messages()->messages.empty());

    // The laptop writes to Alice; before she looks, Bob takes it off: she
    // is not shown what a removed device says. The next message goes to his
    // phone alone.
    REQUIRE(bob_laptop->send_message(alice_id, "from the laptop").is_ok());
    REQUIRE(bob->remove_device(bob_laptop->device_id()).is_ok());
    CHECK(published_list(*alice, bob_id).is_removed(bob_laptop->device_id()));
    REQUIRE(alice->send_message(bob_id, "only the phone").is_ok());
    problems.clear();
    auto from_removed = alice->receive_messages(&problems);
    REQUIRE(from_removed.is_ok());
    CHECK(from_removed->messages.empty());
    // The laptop's text and its delivery receipt for Alice's first message;
    // her tablet was told of at her first send, and not again.
    CHECK(std::count_if(problems.begin(), problems.end(), [](const std::string& p) {
              return p.find("a device they removed: not shown") != std::string::npos;
          }) == 2);
    CHECK(std::count_if(problems.begin(), problems.end(), [&](const std::string& p) {
              return p.find("a new device was added to your account") != std::string::npos;
          }) == 0);
    auto raw = bob_laptop->call("inbox.fetch", {});
    REQUIRE(raw.is_ok());
    CHECK(raw->list("messages").value().empty());
    auto got = bob->receive_messages();
    REQUIRE(got.is_ok());
    REQUIRE(got->messages.size() == 1);
    CHECK(got->messages[0].text == "only the phone");
    // The laptop's client says so when it next looks.
    client::ClientOptions o;
    o.profile_dir = n.dir / "bob-laptop";
    o.nodes = {n.endpoint};
    auto laptop_again = client::Client::open(o).value();
    auto refused = laptop_again->receive_messages();
    REQUIRE_FALSE(refused.is_ok());
    CHECK(refused.status().code() == Code::kPermissionDenied);
    CHECK(refused.status().message().find("was removed") != std::string::npos);
    CHECK(laptop_again->send_message(alice_id, "still here?").status().code() == Code::kPermissionDenied);
    // And Bob cannot remove his last device, nor one he never had.
    CHECK(bob->remove_device(bob->device_id()).code() == Code::kInvalidArgument);
    CHECK(bob->remove_device("0123456789abcdef").code() == Code::kNotFound);
    CHECK(bob->remove_device("not-an-id").code() == Code::kInvalidArgument);

    // A removed device cannot sign itself back in: the edit that drops
    // its removal, and a list that does not name its signer, are refused,
    // and the list stays as Bob left it.
    const DeviceList now = published_list(*alice, bob_id);
    CHECK_FALSE(bob_laptop->call("put", {{"record", signed_list(*bob_laptop, DeviceList{{{bob->device_id(), 1, ""},
                                                                                        {bob_laptop->device_id(), 2, ""}},
                                                                                       {}})}})
                    .is_ok());
    CHECK_FALSE(bob_laptop->call("put", {{"record", signed_list(*bob_laptop, DeviceList{{{bob->device_id(), 1, ""}},
                                                                                       {}})}})
                    .is_ok());
    CHECK(published_list(*alice, bob_id) == now);
    REQUIRE(alice->send_message(bob_id, "still only the phone").is_ok());
    CHECK(bob_laptop->call("inbox.fetch", {})->list("messages").value().empty());

    // A profile that saw a newer list than the one a node hands over (a
    // stale copy, or a lie) waits rather than take it.
    {
        std::ofstream(n.dir / "bob" / "devices.seen", std::ios::app) << "#" << UINT64_MAX / 2 << "\n";
        client::ClientOptions phone;
        phone.profile_dir = n.dir / "bob";
        phone.nodes = {n.endpoint};
        auto again = client::Client::open(phone).value();
        auto listed_again = again->devices();
        CHECK(listed_again.status().code() == Code::kUnavailable);
        CHECK(listed_again.status().message().find("older device list") != std::string::npos);
    }
}

TEST_CASE("devices: the node refuses device lists and bundles that do not fit a device") {
    TestNode n;
    auto bob = device_of(n, "bob", "+15555245555");
    auto mallory = device_of(n, "mallory", "+15555245556");
    const std::string me = bob->device_id();
    auto put = [&](client::Client& c, const std::string& envelope) { return c.call("put", {{"record", envelope}}).status(); };

    // Out of shape: an id that is no device id, one listed twice, one
    // both listed and removed.
    for (const char* id : {"ABCDEF0123456789", "0123", "0123456789abcdeg"}) {
        Record r;
        r.type = RecordType::kDevices;
        r.user_id = bob->profile().user_id;
        r.certificate = bob->profile().certificate;
        r.sequence = static_cast<uint64_t>(to_unix_millis(std::chrono::system_clock::now()));
        r.expires_at_s = to_unix_seconds(std::chrono::system_clock::now()) + 86400;
        // Packed by hand: encode_device_list() refuses it before it leaves.
        msgpack::sbuffer buf;
        msgpack::packer<msgpack::sbuffer> pk(buf);
        pk.pack_array(3);
        pk.pack(kDeviceListFormat);
        pk.pack_array(2);
        for (const std::string& d : {me, std::string(id)}) {
            pk.pack_array(3);
            pk.pack(d);
            pk.pack(int64_t{1});
            pk.pack(std::string());
        }
        pk.pack(std::vector<std::string>{});
        r.body.assign(buf.data(), buf.size());
        CHECK(put(*bob, seal_record(r, *bob->profile().key).value()).code() != Code::kOk);
    }
    CHECK_FALSE(encode_device_list(DeviceList{{{me, 1, ""}, {me, 2, ""}}, {}}).is_ok());
    CHECK_FALSE(encode_device_list(DeviceList{{{me, 1, ""}}, {me}}).is_ok());
    // Mallory cannot list her device as Bob's: her certificate names her,
    // not Bob, so the record does not open as his.
    Record r;
    r.type = RecordType::kDevices;
    r.user_id = bob->profile().user_id;
    r.certificate = mallory->profile().certificate;
    r.sequence = static_cast<uint64_t>(to_unix_millis(std::chrono::system_clock::now())) + 60'000;
    r.expires_at_s = to_unix_seconds(std::chrono::system_clock::now()) + 86400;
    r.body = encode_device_list(DeviceList{{{mallory->device_id(), 1, ""}}, {}}).value();
    CHECK_FALSE(put(*mallory, seal_record(r, *mallory->profile().key).value()).is_ok());
    // A bundle of Bob's at the place of another device of his is refused.
    auto bundle = bob->call("get", {{"type", std::string("prekeys")}, {"user_id", bob->profile().user_id},
                                    {"locator", device_locator(me)}});
    REQUIRE_MESSAGE(bundle.is_ok(), bundle.status().to_string());
    Record moved = open_record(bundle->text("record", kMaxRecordBytes).value()).value().record;
    moved.locator = device_locator("0123456789abcdef");
    moved.sequence += 1;
    CHECK(put(*bob, seal_record(moved, *bob->profile().key).value()).code() == Code::kPermissionDenied);
}

TEST_CASE("devices: a first device may set its privacy list at once, or in a later process that never logged in") {
    TestNode n;
    // Right after verification: its first login finds no other device.
    auto dave = n.user("dave", "+15555245557");
    CHECK(dave->profile().privacy_ms == 0);
    REQUIRE(dave->set_privacy(PrivacyList{false, {}, {}, true}).is_ok());
    CHECK(dave->profile().privacy_ms > 1);
    // Verified in a process that ended before any login: the next process
    // does not take a miss for "no other device", but finds itself alone on
    // the list it writes.
    auto erin = n.user("erin", "+15555245558");
    const auto dir = erin->profile().dir;
    erin.reset();
    client::ClientOptions o;
    o.profile_dir = dir;
    o.nodes = {n.endpoint};
    auto later = client::Client::open(o).value();
    CHECK(later->profile().privacy_ms == 0);
    REQUIRE(later->set_privacy(PrivacyList{false, {}, {}, true}).is_ok());
    CHECK(later->profile().privacy_ms > 1);
    // A second device of Erin's, on a list with the first, still waits.
    auto erin_phone = n.user("erin-phone", "+15555245558");
    auto refused = erin_phone->set_privacy(PrivacyList{false, {}, {}, true});
    CHECK(refused.code() == Code::kUnavailable);
    CHECK(refused.message().find("has not come from your other devices") != std::string::npos);
}

TEST_CASE("devices: a privacy list reaches a device added later and back, and every device's node enforces it") {
    TestNode n;
    auto bob = device_of(n, "bob", "+15555245555");
    auto carol = device_of(n, "carol", "+15555245556");
    const std::string bob_id = bob->profile().user_id, carol_id = carol->profile().user_id;
    CHECK(bob->profile().privacy_ms > 0);  // the first device's (empty) list is the user's
    REQUIRE(bob->set_privacy(PrivacyList{false, {carol_id}, {}, true}).is_ok());

    // A laptop added later waits for the list, and gets it from the first
    // device that sees it, which tells Bob of the new device once.
    auto bob_laptop = device_of(n, "bob-laptop", "+15555245555");
    CHECK(bob_laptop->profile().privacy_ms == 0);
    CHECK(bob_laptop->set_privacy(PrivacyList{}).code() == Code::kUnavailable);  // no edit from an empty list
    CHECK(bob_laptop->privacy().is_ok());  // though it may be read
    std::vector<std::string> notices;
    REQUIRE(bob->receive_messages(&notices).is_ok());
    REQUIRE(notices.size() == 1);
    CHECK(notices[0].find("a new device was added") != std::string::npos);
    CHECK(notices[0].find(bob_laptop->device_id()) != std::string::npos);
    notices.clear();
    REQUIRE(bob->receive_messages(&notices).is_ok());
    CHECK(notices.empty());
    REQUIRE(bob_laptop->receive_messages().is_ok());
    REQUIRE(bob_laptop->profile().privacy.has_value());
    CHECK(bob_laptop->profile().privacy->blocked == std::vector<std::string>{carol_id});
    CHECK(bob_laptop->profile().privacy_ms == bob->profile().privacy_ms);

    // Carol's message reaches neither device: each node holds the list.
    REQUIRE(carol->send_message(bob_id, "are you there?").is_ok());
    for (auto* device : {bob.get(), bob_laptop.get()}) {
        auto got = device->receive_messages();
        REQUIRE_MESSAGE(got.is_ok(), got.status().to_string());
        CHECK(got->messages.empty());
    }

    // On a node both use, a device's older list does not replace the newer
    // one another device gave.
    const std::vector<std::string> none, blocked{carol_id};
    REQUIRE(bob->call("privacy.set", {{"allow_only", false}, {"blocked", blocked}, {"allowed", none},
                                      {"set_ms", static_cast<uint64_t>(bob->profile().privacy_ms)}})
                .is_ok());
    auto older = bob_laptop->call("privacy.set", {{"allow_only", false}, {"blocked", none}, {"allowed", none},
                                                  {"set_ms", uint64_t{1}}});
    REQUIRE(older.is_ok());
    CHECK(older->flag("kept_newer").value());
    REQUIRE(carol->send_message(bob_id, "still there?").is_ok());
    CHECK(bob_laptop->receive_messages()->messages.empty());

    // A change on the laptop reaches the phone: allow-only, Carol alone.
    REQUIRE(bob_laptop->set_privacy(PrivacyList{true, {}, {carol_id}, false}).is_ok());
    REQUIRE(bob->receive_messages().is_ok());
    CHECK(bob->profile().privacy->allow_only);
    CHECK(bob->profile().privacy->allowed == std::vector<std::string>{carol_id});
    CHECK_FALSE(bob->profile().privacy->read_receipts);
    // Allow-only lets the user's own devices through: the copy of what the
    // phone sends reaches the laptop.
    REQUIRE(bob->send_message(carol_id, "back at six").is_ok());
    REQUIRE(bob_laptop->receive_messages().is_ok());
    auto copied = bob_laptop->conversation(carol_id);
    REQUIRE(copied.is_ok());
    REQUIRE(copied->size() == 1);
    CHECK(copied->front().outgoing);
    CHECK(copied->front().text == "back at six");
}

TEST_CASE("devices: a device that was on its user's list waits when the list cannot be read, and starts it again once it must have expired") {
    TestNode n;
    const std::string other = "0123456789abcdef", gone = "00000000000000aa";
    auto write_seen = [&](const std::string& name, const client::Client& c, uint64_t sequence) {
        std::ofstream(n.dir / name / "devices.seen")
            << "@" << c.profile().user_id << "\n" << other << "\n-" << gone << "\n#" << sequence << "\n";
    };
    // Carol's profile saw a list a minute ago that no node has now: a miss,
    // not "no devices".
    auto carol = n.user("carol", "+15555245556");
    write_seen("carol", *carol, static_cast<uint64_t>(to_unix_millis(std::chrono::system_clock::now())) - 60'000);
    Status waited = carol->publish_keys();
    CHECK(waited.code() == Code::kUnavailable);
    CHECK(waited.message().find("cannot be read now") != std::string::npos);

    // Dave's saw one 31 days ago: every device was away past a record's
    // lifetime. His device writes the list again from what it knows, its
    // removals kept.
    auto dave = n.user("dave", "+15555245557");
    write_seen("dave", *dave, static_cast<uint64_t>(to_unix_millis(std::chrono::system_clock::now() - std::chrono::hours(24 * 31))));
    REQUIRE(dave->publish_keys().is_ok());
    const DeviceList again = published_list(*carol, dave->profile().user_id);
    CHECK(again.find(other) != nullptr);
    CHECK(again.find(dave->device_id()) != nullptr);
    CHECK(again.is_removed(gone));
}
