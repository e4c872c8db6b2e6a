// Mutation fuzzing of every decoder that reads bytes from outside: client
// frames, record envelopes and bodies, registrar messages, messages as
// nodes carry them and inbox requests, membership and presence datagrams.
// Valid encodings are mutated (bit flips, truncation, insertion, splicing,
// random bytes) from a fixed seed; each decoder must answer every input
// with a value or a Status, never a crash, a hang or (under the sanitizers
// CI runs these with) a memory error. Each valid input must decode, and
// with one byte more be refused. The libFuzzer targets in fuzz/ search the
// same decoders guided by coverage; these run in the unit suite, without
// clang, and replay the same way every time.
#include <opendht.h>

#include "tests/doctest.h"

#include "common/rng.h"
#include "crypto/node_identity.h"
#include "crypto/signing.h"
#include "crypto/user_certificate.h"
#include "records/device_list.h"
#include "records/record.h"
#include "records/record_bodies.h"
#include "net/client_protocol.h"
#include "net/inbox_message.h"
#include "node/front/audit_messages.h"
#include "node/front/inbox_messages.h"
#include "node/gossip/presence.h"
#include "node/gossip/swim.h"
#include "tests/sample_inputs.h"
#include "testing/test_util.h"

using namespace dhtalk;

namespace {

constexpr int kRounds = 3000;

std::string mutate(const std::string& in, Rng& rng) {
    std::string s = in;
    const int edits = 1 + static_cast<int>(rng.uniform(4));
    for (int e = 0; e < edits; ++e) {
        switch (rng.uniform(6)) {
        case 0:  // flip a bit
            if (!s.empty()) s[rng.uniform(s.size())] ^= static_cast<char>(1 << rng.uniform(8));
            break;
        case 1:  // truncate
            s.resize(rng.uniform(s.size() + 1));
            break;
        case 2:  // insert random bytes
            for (uint64_t i = 0, n = 1 + rng.uniform(8); i < n; ++i)
                s.insert(s.begin() + static_cast<long>(rng.uniform(s.size() + 1)), static_cast<char>(rng.uniform(256)));
            break;
        case 3:  // overwrite with a byte msgpack gives meaning to (sizes, types)
            if (!s.empty()) {
                static const char kTypes[] = {'\xc4', '\xc5', '\xc6', '\xd9', '\xda', '\xdb', '\xdc', '\xdd', '\xde', '\xdf', '\x9f', '\x8f', '\xcf', '\xd3', '\xc1'};
                s[rng.uniform(s.size())] = kTypes[rng.uniform(sizeof kTypes)];
            }
            break;
        case 4:  // splice a chunk of itself elsewhere
            if (s.size() > 2) {
                const size_t from = rng.uniform(s.size()), len = rng.uniform(s.size() - from) + 1;
                s.insert(rng.uniform(s.size() + 1), s.substr(from, len));
            }
            break;
        default:  // all random
            s.assign(rng.uniform(64), '\0');
            for (auto& c : s) c = static_cast<char>(rng.uniform(256));
        }
    }
    return s;
}

// What fuzz() asserts of each valid input beyond surviving its mutations.
enum class Expect {
    kDecodes,        // it decodes, and with one byte more it is refused as trailing
    kTrailingOnly,   // the decoder has state (a valid input may be a repeat): only the trailing refusal
    kSurvives,       // not msgpack (text, a stream): only that nothing crashes
};

template <class Decode>
void fuzz(const std::vector<std::string>& corpus, Decode decode, uint64_t seed, Expect expect = Expect::kDecodes) {
    Rng rng(seed);
    for (const auto& valid : corpus) {
        const Status plain = decode(valid);
        if (expect == Expect::kDecodes) CHECK_MESSAGE(plain.is_ok(), plain.to_string());
        if (expect != Expect::kSurvives) {
            const Status longer = decode(valid + '\0');
            CHECK_MESSAGE(longer.message().find("trailing") != std::string::npos, longer.to_string());
        }
        for (int i = 0; i < kRounds; ++i) (void)decode(mutate(valid, rng));
    }
}

template <class T>
Status status_of(const Result<T>& r) {
    return r.status();
}

}  // namespace

TEST_CASE("client frames survive mutation") {
    ClientFrame f;
    f.id = 7;
    f.kind = "put";
    f.params = {{"record", std::string(300, 'r')}, {"n", uint64_t{9}}, {"b", true}, {"l", std::vector<std::string>{"a", "bb"}}};
    const std::string framed = encode_frame(f);
    fuzz({framed.substr(4), encode_frame(ClientFrame::error_reply(3, Status::denied("x"))).substr(4)},
         [](const std::string& body) { return status_of(decode_frame(body)); }, 1);
    fuzz({framed + framed}, [](const std::string& bytes) {
        FrameReader r(4096);
        if (Status fed = r.feed(bytes); !fed) return fed;
        for (int i = 0; i < 8; ++i)
            if (!r.next()) break;
        return Status::ok();
    }, 2, Expect::kSurvives);
}

TEST_CASE("record envelopes and bodies survive mutation") {
    test::TempDir dir;
    auto node = crypto::load_or_create_identity(dir / "n", 2048).value();
    // The envelope's certificate makes mutations slow to parse: fewer rounds suffice.
    Rng rng(3);
    const std::string envelope = test::sample_record_envelope(node);
    CHECK(open_record(envelope).is_ok());
    CHECK(open_record(envelope + '\0').status().message().find("trailing") != std::string::npos);
    for (int i = 0; i < 500; ++i) (void)open_record(mutate(envelope, rng));

    const auto bodies = test::sample_bodies();
    fuzz({bodies.vcard}, [](const std::string& b) { return status_of(decode_vcard(b)); }, 4);
    fuzz({bodies.privacy}, [](const std::string& b) { return status_of(decode_privacy(b)); }, 5);
    fuzz({bodies.media}, [](const std::string& b) { return status_of(decode_media(b)); }, 6);
    fuzz({bodies.media_reference}, [](const std::string& b) { return status_of(parse_media_reference(b)); }, 7,
         Expect::kSurvives);
    const std::string devices =
        encode_device_list({{{"0123456789abcdef", 1, "phone"}, {"fedcba9876543210", 2, ""}}, {"00000000000000aa"}}).value();
    fuzz({devices}, [](const std::string& b) { return status_of(decode_device_list(b)); }, 8);
}

TEST_CASE("registrar requests and verdicts survive mutation") {
    const auto corpus = test::sample_registrar_messages();
    const std::vector<std::string> requests(corpus.begin(), corpus.end() - 1), verdicts(corpus.end() - 1, corpus.end());
    fuzz(requests, [](const std::string& bytes) { return status_of(decode_registrar_request(bytes)); }, 9);
    fuzz(verdicts, [](const std::string& bytes) { return status_of(decode_registrar_verdict(bytes)); }, 10);
}

TEST_CASE("issuance audit requests and answers survive mutation") {
    AuditRequest r{7, std::string(40, 'a'), std::string(40, 'b'), 5, 20000, std::string(64, 's')};
    AuditAnswer a{7, std::string(40, 'b'), std::string(32, 'd'), false,
                  {{20000, std::string(40, 'c'), std::string(40, 'e'), 42}, {20001, std::string(40, 'c'), "", 0}},
                  std::string(64, 's')};
    fuzz({encode(r)}, [](const std::string& bytes) { return status_of(decode_audit_request(bytes)); }, 14);
    fuzz({encode(a)}, [](const std::string& bytes) { return status_of(decode_audit_answer(bytes)); }, 15);
}

TEST_CASE("messages as nodes carry them, and inbox requests and answers, survive mutation") {
    InboxMessage m{"bob", "alice", "m-1", 1000, 2000, std::string("\x01\x02ciphertext", 12)};
    REQUIRE(decode_inbox_message(encode(m)).value() == m);
    const InboxMessage largest{std::string(64, 'r'), std::string(64, 's'), std::string(64, 'i'), INT64_MIN, INT64_MAX,
                               std::string(kMaxMessageBytes, 'b')};
    for (const auto& x : {m, largest}) CHECK(encode(x).size() <= encoded_size_bound(x));
    fuzz({encode(m)}, [](const std::string& bytes) { return status_of(decode_inbox_message(bytes)); }, 11);

    InboxRequest hold{InboxRequest::Kind::kHold, 7, "aa", "bb", 5, "bob", {m}, {}, 0, {}, std::string(64, 's')};
    InboxRequest ack{InboxRequest::Kind::kAck, 7, "aa", "bb", 5, "bob", {}, {{"alice", "m-1"}}, 0, {}, std::string(64, 's')};
    InboxRequest follows{InboxRequest::Kind::kFollow, 7, "aa", "bb", 5, "", {}, {}, 0, {"bob", "carol"}, std::string(64, 's')};
    InboxAnswer answer{7, "bb", std::string(32, 'd'), Code::kOk, "", {m, m}, std::string(64, 's')};
    REQUIRE(decode_inbox_request(encode(hold)).is_ok());
    REQUIRE(decode_inbox_request(encode(follows)).is_ok());
    fuzz({encode(hold), encode(ack), encode(follows)}, [](const std::string& bytes) { return status_of(decode_inbox_request(bytes)); }, 12);
    fuzz({encode(answer)}, [](const std::string& bytes) { return status_of(decode_inbox_answer(bytes)); }, 13);
}

TEST_CASE("membership and presence datagrams survive mutation") {
    const auto& ids = test::sample_member_ids();
    SteadyTime now{};
    const auto corpus = test::sample_swim_datagrams();
    REQUIRE_FALSE(corpus.empty());
    Swim b("bb", SwimConfig{}, 2);
    b.set_members(ids, now);
    fuzz(corpus, [&](const std::string& bytes) { return b.on_datagram("aa", bytes, now); }, 8, Expect::kTrailingOnly);

    const auto messages = test::sample_presence_messages();
    REQUIRE_FALSE(messages.empty());
    test::AcceptingSigner signer;
    PresenceChannel host("aa", PresenceConfig{}, signer), watcher("bb", PresenceConfig{}, signer);
    host.set_members(ids, now);
    watcher.set_members(ids, now);
    host.login(std::string(40, 'u'), now, 1000);
    host.set_privacy(std::string(40, 'u'), {}, now);
    REQUIRE(watcher.watch(std::string(40, 'w'), std::string(40, 'u'), now));
    // Each message goes to both: one of them is its receiver.
    fuzz(messages, [&](const std::string& bytes) {
        Status at_watcher = watcher.on_datagram("aa", bytes, now);
        Status at_host = host.on_datagram("bb", bytes, now);
        return at_watcher.message().find("trailing") != std::string::npos ? at_watcher : at_host;
    }, 9, Expect::kTrailingOnly);
}
