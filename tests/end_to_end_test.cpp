// End-to-end encryption between two profiles (client/end_to_end.h): the
// Signal protocol's session from a published bundle, both directions, state
// that survives a restart, and refusal of what is forged, replayed, or
// under a key the profile did not see before.
#include "client/end_to_end.h"

#include "testing/test_util.h"
#include "tests/doctest.h"

using namespace dhtalk;
using namespace dhtalk::client;

namespace {

const std::string kAlice = "a11ce00000000000000000000000000000000000";
const std::string kBob = "b0b0000000000000000000000000000000000000";
const std::string kCarol = "ca20100000000000000000000000000000000000";

std::unique_ptr<EndToEnd> open_state(const std::filesystem::path& dir) {
    auto e = EndToEnd::open(dir);
    REQUIRE_MESSAGE(e.is_ok(), e.status().message());
    return std::move(e).value();
}

PreKeyBundle bundle_of(EndToEnd& e) {
    auto b = e.bundle();
    REQUIRE_MESSAGE(b.is_ok(), b.status().message());
    return *b;
}

std::string encrypt(EndToEnd& from, const std::string& to, const std::string& text) {
    auto envelope = from.encrypt(to, text);
    REQUIRE_MESSAGE(envelope.is_ok(), envelope.status().message());
    return *envelope;
}

std::string decrypt(EndToEnd& at, const std::string& from, const std::string& envelope) {
    auto plain = at.decrypt(from, envelope);
    REQUIRE_MESSAGE(plain.is_ok(), plain.status().message());
    return *plain;
}

}  // namespace

TEST_CASE("a session from a bundle carries messages both ways, each under its own key") {
    test::TempDir dir;
    auto alice = open_state(dir / "alice");
    auto bob = open_state(dir / "bob");
    const PreKeyBundle published = bundle_of(*bob);
    CHECK(published.pre_keys.size() == kOneTimePreKeys);
    CHECK_FALSE(bob->pre_keys_used());

    REQUIRE(alice->start_session(kBob, published).is_ok());
    CHECK(alice->has_session(kBob));
    const std::string first = encrypt(*alice, kBob, "hello bob");
    const std::string second = encrypt(*alice, kBob, "hello bob");
    CHECK(first != second);
    CHECK(first.find("hello bob") == std::string::npos);

    // The first message says who starts the session, as it claims.
    auto claimed = bob->claimed_identity(first);
    REQUIRE(claimed.is_ok());
    REQUIRE(claimed->has_value());
    CHECK(**claimed == bundle_of(*alice).identity_key);

    // Out of order: the second arrives first.
    CHECK(decrypt(*bob, kAlice, second) == "hello bob");
    CHECK(decrypt(*bob, kAlice, first) == "hello bob");
    CHECK(bob->pre_keys_used());
    CHECK(bundle_of(*bob).pre_keys.size() == kOneTimePreKeys);  // topped up

    // The reply needs no bundle: the session is there.
    CHECK(bob->has_session(kAlice));
    const std::string reply = encrypt(*bob, kAlice, "hi alice");
    auto reply_claims = alice->claimed_identity(reply);
    REQUIRE(reply_claims.is_ok());
    CHECK_FALSE(reply_claims->has_value());  // a ratchet message
    CHECK(decrypt(*alice, kBob, reply) == "hi alice");
}

TEST_CASE("the state lives in the profile: a restarted client goes on with its sessions") {
    test::TempDir dir;
    std::string envelope;
    {
        auto alice = open_state(dir / "alice");
        auto bob = open_state(dir / "bob");
        REQUIRE(alice->start_session(kBob, bundle_of(*bob)).is_ok());
        CHECK(decrypt(*bob, kAlice, encrypt(*alice, kBob, "one")) == "one");
        envelope = encrypt(*alice, kBob, "two");
    }
    auto alice = open_state(dir / "alice");
    auto bob = open_state(dir / "bob");
    CHECK(decrypt(*bob, kAlice, envelope) == "two");
    CHECK(decrypt(*alice, kBob, encrypt(*bob, kAlice, "three")) == "three");
}

TEST_CASE("replayed, altered and misdirected messages are refused") {
    test::TempDir dir;
    auto alice = open_state(dir / "alice");
    auto bob = open_state(dir / "bob");
    auto carol = open_state(dir / "carol");
    REQUIRE(alice->start_session(kBob, bundle_of(*bob)).is_ok());
    const std::string envelope = encrypt(*alice, kBob, "only once");
    CHECK(decrypt(*bob, kAlice, envelope) == "only once");

    SUBCASE("replayed") { CHECK(bob->decrypt(kAlice, envelope).status().code() == Code::kCorruption); }
    SUBCASE("altered") {
        std::string altered = encrypt(*alice, kBob, "altered");
        altered[altered.size() - 12] ^= 1;
        CHECK(bob->decrypt(kAlice, altered).status().code() == Code::kCorruption);
    }
    SUBCASE("to someone else") {
        CHECK_FALSE(carol->decrypt(kAlice, encrypt(*alice, kBob, "not for carol")).is_ok());
    }
    SUBCASE("not an envelope") {
        for (std::string junk : {std::string(), std::string("\x93\x01\x02", 3), std::string("\x93\x02\x02\xc4\x01x", 6),
                                 std::string("\x93\x01\x07\xc4\x01x", 6), std::string(100, '\xff')}) {
            CHECK(bob->decrypt(kAlice, junk).status().code() == Code::kCorruption);
            CHECK_FALSE(bob->claimed_identity(junk).is_ok());
        }
    }
}

TEST_CASE("a bundle whose signature fails, or under a key other than the one seen before, is refused") {
    test::TempDir dir;
    auto alice = open_state(dir / "alice");
    auto bob = open_state(dir / "bob");
    PreKeyBundle forged = bundle_of(*bob);
    forged.signed_pre_key_signature[5] ^= 1;
    CHECK(alice->start_session(kBob, forged).code() == Code::kPermissionDenied);

    REQUIRE(alice->start_session(kBob, bundle_of(*bob)).is_ok());
    CHECK(decrypt(*bob, kAlice, encrypt(*alice, kBob, "first")) == "first");
    CHECK(decrypt(*alice, kBob, encrypt(*bob, kAlice, "seen")) == "seen");
    REQUIRE(alice->contact_key(kBob).has_value());

    // Bob's user id with a new identity: a new profile, or someone else.
    auto other = open_state(dir / "bob-again");
    auto changed = alice->start_session(kBob, bundle_of(*other));
    CHECK(changed.code() == Code::kPermissionDenied);
    CHECK(test::contains(changed.message(), "new key"));
    // And a message that starts a session under the other key.
    REQUIRE(other->start_session(kAlice, bundle_of(*alice)).is_ok());
    CHECK(alice->decrypt(kBob, encrypt(*other, kAlice, "from a new key")).status().code() ==
          Code::kPermissionDenied);
}

TEST_CASE("two senders who pick the same one-time pre-key both reach the recipient") {
    test::TempDir dir;
    auto alice = open_state(dir / "alice");
    auto carol = open_state(dir / "carol");
    auto bob = open_state(dir / "bob");
    PreKeyBundle one_key = bundle_of(*bob);
    one_key.pre_keys.resize(1);
    REQUIRE(alice->start_session(kBob, one_key).is_ok());
    REQUIRE(carol->start_session(kBob, one_key).is_ok());
    CHECK(decrypt(*bob, kAlice, encrypt(*alice, kBob, "from alice")) == "from alice");
    CHECK(decrypt(*bob, kCarol, encrypt(*carol, kBob, "from carol")) == "from carol");
}

TEST_CASE("a message whose plaintext could not be kept opens again: the ratchet moves on only after it is kept") {
    test::TempDir dir;
    auto alice = open_state(dir / "alice");
    auto bob = open_state(dir / "bob");
    REQUIRE(alice->start_session(kBob, bundle_of(*bob)).is_ok());
    const std::string first = encrypt(*alice, kBob, "first");
    // The disk is full, say, when Bob's client would keep it.
    Status full = bob->decrypt(kAlice, first, [](const std::string&) { return Status::io_error("no space left"); });
    CHECK(full.code() == Code::kIoError);
    // Fetched again, it opens; and once kept, a third try is a replay.
    std::string kept;
    REQUIRE(bob->decrypt(kAlice, first, [&](const std::string& p) {
                   kept = p;
                   return Status::ok();
               }).is_ok());
    CHECK(kept == "first");
    CHECK(bob->decrypt(kAlice, first).status().code() == Code::kCorruption);
    // The same for a message on an established session.
    CHECK(decrypt(*alice, kBob, encrypt(*bob, kAlice, "reply")) == "reply");
    const std::string second = encrypt(*alice, kBob, "second");
    CHECK(bob->decrypt(kAlice, second, [](const std::string&) { return Status::io_error("no space left"); }).code() ==
          Code::kIoError);
    CHECK(decrypt(*bob, kAlice, second) == "second");
}

TEST_CASE("the signed pre-key is replaced after its lifetime; a replaced one opens sessions from older bundles, then goes") {
    using namespace std::chrono;
    test::TempDir dir;
    auto alice = open_state(dir / "alice");
    auto bob = open_state(dir / "bob");
    auto carol = open_state(dir / "carol");
    const auto now = system_clock::now();
    auto first = bob->bundle(now);
    REQUIRE(first.is_ok());
    CHECK(bob->bundle(now + hours(1))->signed_pre_key_id == first->signed_pre_key_id);  // young: kept
    const auto later = now + kSignedPreKeyLifetime + hours(1);
    auto second = bob->bundle(later);
    REQUIRE(second.is_ok());
    CHECK(second->signed_pre_key_id == first->signed_pre_key_id + 1);
    CHECK(second->signed_pre_key != first->signed_pre_key);
    CHECK(bob->signed_pre_key_ids().size() == 2);

    // Alice fetched the bundle before the change, Carol after: both reach Bob.
    REQUIRE(alice->start_session(kBob, *first).is_ok());
    REQUIRE(carol->start_session(kBob, *second).is_ok());
    CHECK(decrypt(*bob, kAlice, encrypt(*alice, kBob, "from an old bundle")) == "from an old bundle");
    CHECK(decrypt(*bob, kCarol, encrypt(*carol, kBob, "from the new one")) == "from the new one");

    // A month after it was replaced, the first goes; the one after it stays.
    auto third = bob->bundle(later + kOldSignedPreKeyKept + hours(1));
    REQUIRE(third.is_ok());
    CHECK(bob->signed_pre_key_ids() ==
          std::vector<uint32_t>{second->signed_pre_key_id, third->signed_pre_key_id});
    // The sessions already made go on without it.
    CHECK(decrypt(*bob, kAlice, encrypt(*alice, kBob, "still here")) == "still here");
}
