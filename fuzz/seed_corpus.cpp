// Writes the seed corpus of every fuzz target, valid inputs made with the
// project's own encoders, to DIR/<target>/seed-N. The corpus in fuzz/corpus
// was made with it: `build-fuzz/fuzz/seed_corpus fuzz/corpus` (into an
// empty folder: it numbers after the files there). A seed added later is
// copied in alone under the next free number, so that the others stay.
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <msgpack.hpp>

#include "client/attachment.h"
#include "client/end_to_end.h"
#include "client/message_content.h"
#include "crypto/node_identity.h"
#include "dht/value_archive.h"
#include "fuzz/seed_keys.h"
#include "net/client_protocol.h"
#include "net/inbox_message.h"
#include "net/member_load.h"
#include "node/front/audit_messages.h"
#include "node/front/inbox_messages.h"
#include "node/front/media_messages.h"
#include "node/trust/peer_service.h"
#include "node/trust/roster_builder.h"
#include "records/device_list.h"
#include "roster/roster_rules.h"
#include "storage/memory_store.h"
#include "tests/sample_inputs.h"

using namespace dhtalk;

namespace {

std::filesystem::path out_dir;

void write(const std::string& target, const std::string& bytes) {
    const auto dir = out_dir / target;
    std::filesystem::create_directories(dir);
    size_t n = 0;
    while (std::filesystem::exists(dir / ("seed-" + std::to_string(n)))) n++;
    std::ofstream(dir / ("seed-" + std::to_string(n)), std::ios::binary) << bytes;
}

std::string selected(char which, const std::string& bytes) { return std::string(1, which) + bytes; }

// Captures what a sealed socket sends.
class Capture final : public dht::net::DatagramSocket {
public:
    std::vector<std::string> sent;
    int sendTo(const dht::SockAddr&, const uint8_t* data, size_t size, bool) override {
        sent.emplace_back(reinterpret_cast<const char*>(data), size);
        return 0;
    }
    bool hasIPv4() const override { return true; }
    bool hasIPv6() const override { return false; }
    const dht::SockAddr& getBoundRef(sa_family_t family) const override { return family == AF_INET ? bound_ : none_; }
    void stop() override {}
    dht::SockAddr bound_ = fuzz::member_address(0), none_;
};

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: seed_corpus DIR\n");
        return 2;
    }
    out_dir = argv[1];
    const auto keys = std::filesystem::temp_directory_path() / "dhtalk-seed-corpus";
    auto node = crypto::load_or_create_identity(keys / "node", 2048).value();
    auto other = crypto::load_or_create_identity(keys / "other", 2048).value();

    // Client frames: bodies, and whole frames with their length prefix.
    ClientFrame f;
    f.id = 7;
    f.kind = "put";
    f.params = {{"record", std::string(40, 'r')}, {"n", uint64_t{9}}, {"b", true}, {"l", std::vector<std::string>{"a", "bb"}}};
    for (const auto& frame : {f, ClientFrame::error_reply(3, Status::denied("no"))}) {
        const std::string framed = encode_frame(frame);
        write("client_frame", framed.substr(4));
        write("client_frame", framed + framed);
    }

    // A record envelope, and record bodies.
    write("record", test::sample_record_envelope(node));
    const auto bodies = test::sample_bodies();
    write("record_body", selected(0, bodies.vcard));
    write("record_body", selected(1, bodies.privacy));
    write("record_body", selected(2, bodies.media));
    write("record_body", selected(3, bodies.media_reference));
    write("record_body", selected(4, encode_device_list({{{"0123456789abcdef", 1, "phone"}}, {"00000000000000aa"}}).value()));

    // Roster documents and an epoch list.
    auto genesis = make_genesis(node, {"fuzz", QuorumRule::kMajority, "kontalk-sha1"}, {"127.0.0.1:4222"}, "op",
                                crypto::random_key())
                       .value();
    const uint32_t net = network_id_of_genesis(genesis);
    write("roster", selected(0, encode(make_application(other, net, {"127.0.0.1:4223"}, "op2", 1'800'000'000).value())));
    write("roster", selected(1, encode(make_ballot(node, net, 0, ChangeKind::kAdmit, other.node_id_hex(),
                                                   Decision::kApprove, "welcome")
                                           .value())));
    write("roster", selected(2, encode(genesis)));
    write("roster", selected(3, encode_epoch_list({encode(genesis)})));
    write("roster", selected(8, encode(make_member_update(node, net, 1'800'000'000'000, {{"127.0.0.1:4223"}, 1024}).value())));
    write("roster", selected(9, format_member_load({node.node_id_hex(), "alive", 12, 10000})));
    const auto registrar = test::sample_registrar_messages();
    write("roster", selected(4, registrar[0]));
    write("roster", selected(4, registrar[1]));
    write("roster", selected(5, registrar[2]));
    write("roster", selected(6, encode(AuditRequest{7, std::string(40, 'a'), std::string(40, 'b'), 5, 20000, std::string(64, 's')})));
    write("roster", selected(7, encode(AuditAnswer{7, std::string(40, 'b'), std::string(32, 'd'), false,
                                                   {{20000, std::string(40, 'c'), std::string(40, 'e'), 42}},
                                                   std::string(64, 's')})));

    // Sealed datagrams from member 0 to member 1, under the target's key.
    {
        ManualClock clock(fuzz::kSteadyStart, fuzz::kWallStart);
        auto capture = std::make_unique<Capture>();
        Capture* sent = capture.get();
        SealedSocket sender(std::move(capture), clock, std::make_shared<SealCounters>());
        (void)sender.set_key(fuzz::seal_key(), std::chrono::seconds(30));
        for (const std::string text : {"d1:ad2:id20:", "\xc1\x01 gossip", ""})
            sender.sendTo(fuzz::member_address(1), reinterpret_cast<const uint8_t*>(text.data()), text.size(), false);
        for (const auto& d : sent->sent) write("sealed", d);
    }

    // Membership and presence datagrams between members "aa" and "bb" (the
    // target receives as "bb"; the ones "bb" sent it refuses, which is fine).
    for (const auto& d : test::sample_swim_datagrams()) write("gossip", selected(0, d));
    for (const auto& d : test::sample_presence_messages()) write("gossip", selected(1, d));

    // A value archive record, as ValueArchive writes it.
    {
        MemoryStore store;
        SystemClock clock;
        ValueArchive archive(store, clock);
        msgpack::sbuffer buf;
        msgpack::packer<msgpack::sbuffer> pk(buf);
        pk.pack_array(1);
        pk.pack_array(2);
        pk.pack(clock.now().time_since_epoch().count());
        dht::Value v(reinterpret_cast<const uint8_t*>("kept"), 4);
        v.id = 42;
        v.msgpack_pack(pk);
        (void)archive.save({{dht::InfoHash::get("k"), dht::Blob(buf.data(), buf.data() + buf.size())}});
        (void)store.scan(ValueArchive::kPrefix, [&](std::string_view, std::string_view value) {
            write("value_archive", std::string(value));
            return true;
        });
    }

    // Config files.
    write("config", "network = dhtalk\ndht-port = 4222\nbootstrap = 127.0.0.1:4223\nbootstrap = 127.0.0.1:4224\n");
    write("config", "# a comment\nmax-sessions-per-address = 8\nclient-rate = 100\nsms-provider = file\n");

    // Peer request heads, as the courier sends them.
    write("peer_http", "POST /v1/ballot HTTP/1.1\r\nHost: 127.0.0.1:4222\r\nContent-Type: application/msgpack\r\n"
                       "Content-Length: 365\r\nX-Dhtalk-Origin: 198.51.100.7");
    write("peer_http", "GET /v1/roster?from=12&x=y HTTP/1.1\r\nHost: [::1]:4222\r\nAccept: */*");
    // Messages: as nodes carry them, between members, and at the client.
    {
        InboxMessage m{"bob", "alice", "m-1", 1000, 2000, std::string("\x01\x02ciphertext", 12)};
        write("message", selected(0, encode(m)));
        InboxRequest hold{InboxRequest::Kind::kHold, 7, "aa", "bb", 5, "bob", {m}, {}, 0, {}, std::string(64, 's')};
        InboxRequest ack{InboxRequest::Kind::kAck, 7, "aa", "bb", 5, "bob", {}, {{"alice", "m-1"}}, 0, {}, std::string(64, 's')};
        InboxRequest follows{InboxRequest::Kind::kFollow, 7, "aa", "bb", 5, "", {}, {}, 0, {"bob", "carol"}, std::string(64, 's')};
        write("message", selected(1, encode(hold)));
        write("message", selected(1, encode(ack)));
        write("message", selected(1, encode(follows)));
        write("message", selected(2, encode(InboxAnswer{7, "bb", std::string(32, 'd'), Code::kOk, "", {m}, std::string(64, 's')})));
        std::filesystem::remove_all(keys / "alice");
        std::filesystem::remove_all(keys / "bob");
        auto alice = client::EndToEnd::open(keys / "alice").value();
        auto bob = client::EndToEnd::open(keys / "bob").value();
        const auto bundle = bob->bundle().value();
        write("message", selected(3, encode_pre_key_bundle(bundle).value()));
        write("message", selected(4, client::encode_content({"text", "hello", 1'800'000'000'000, {}, {}, ""})));
        write("message", selected(4, client::encode_content({"read", "", 1'800'000'000'000, {"m-1", "m-2"}, {}, ""})));
        const std::string file = client::encode_attachment(
            {"cat.png", "image/png", 300000, std::string(32, 'k'), std::string(32, 'h'), {std::string(64, 'c')}});
        write("message", selected(4, client::encode_content({"file", "our cat", 1'800'000'000'000, {}, file, ""})));
        write("message", selected(4, client::encode_content({"text", "a copy", 1'800'000'000'000, {}, {}, std::string(40, 'b')})));
        write("message", selected(4, client::encode_content({"privacy", "", 1'800'000'000'000, {}, test::sample_bodies().privacy, ""})));
        write("message", selected(8, file));
        MediaRequest put{MediaRequest::Kind::kHold, 7, "aa", "bb", 5, std::string(64, 'c'), "alice", 100,
                         std::string(1000, 'x'), std::string(64, 's')};
        MediaRequest fetch{MediaRequest::Kind::kFetch, 7, "aa", "bb", 5, std::string(64, 'c'), "", 0, "",
                           std::string(64, 's')};
        write("message", selected(6, encode(put)));
        write("message", selected(6, encode(fetch)));
        write("message", selected(7, encode(MediaAnswer{7, "bb", std::string(32, 'd'), Code::kOk, "",
                                                        std::string(1000, 'x'), std::string(64, 's')})));
        (void)alice->start_session("bob", bundle);
        write("message", selected(5, alice->encrypt("bob", "hello").value()));
        (void)bob->decrypt("alice", alice->encrypt("bob", "again").value());
        write("message", selected(5, bob->encrypt("alice", "a ratchet message").value()));
    }
    std::printf("seed corpus written to %s\n", out_dir.c_str());
    return 0;
}
