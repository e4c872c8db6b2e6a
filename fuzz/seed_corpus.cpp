// Writes the seed corpus of every fuzz target, valid inputs made with the
// project's own encoders, to DIR/<target>/seed-N. The corpus in fuzz/corpus
// was made with it: `build-fuzz/fuzz/seed_corpus fuzz/corpus`.
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <msgpack.hpp>

#include "crypto/node_identity.h"
#include "crypto/user_certificate.h"
#include "dht/record.h"
#include "dht/record_bodies.h"
#include "dht/value_archive.h"
#include "fuzz/seed_keys.h"
#include "node/client_protocol.h"
#include "node/peer_service.h"
#include "node/presence.h"
#include "node/roster_builder.h"
#include "node/roster_rules.h"
#include "node/swim.h"
#include "storage/memory_store.h"

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

class AcceptingSigner final : public PresenceSigner {
public:
    std::string sign(std::string_view) override { return "s"; }
    bool verify(const std::string&, std::string_view, std::string_view sig) override { return sig == "s"; }
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
    auto user_key = crypto::generate_user_key().value();
    const std::string user(40, 'a');
    crypto::IssueRequest req;
    req.csr_pem = crypto::make_certificate_request(*user_key, user).value();
    req.user_id = user;
    req.network_id = 5;
    req.now = std::chrono::system_clock::now();
    Record r;
    r.type = RecordType::kVCard;
    r.user_id = user;
    r.sequence = 1;
    r.expires_at_s = 2'000'000'000;
    r.body = encode_vcard({"name", "status", "", "key", "pgp"});
    r.certificate = crypto::issue_user_certificate(req, node).value();
    write("record", seal_record(r, *user_key).value());
    PrivacyList p;
    p.blocked = {std::string(40, 'b')};
    p.allowed = {std::string(40, 'c')};
    MediaMetadata m;
    m.file_id = std::string(32, 'f');
    m.type = "image/png";
    write("record_body", selected(0, encode_vcard({"name", "status", "avatar", "key", "pgp"})));
    write("record_body", selected(1, encode_privacy(p).value()));
    write("record_body", selected(2, encode_media(m)));
    write("record_body", selected(3, "dhtalk-media:1:" + std::string(40, 'a') + ":" + std::string(64, '0') + ":" +
                                         std::string(64, '1')));

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

    // Membership and presence datagrams from member "aa".
    {
        const std::vector<std::string> ids{"aa", "bb", "cc", "dd"};
        SteadyTime now{};
        Swim a("aa", SwimConfig{}, 1), b("bb", SwimConfig{}, 2);
        a.set_members(ids, now);
        b.set_members(ids, now);
        size_t written = 0;
        for (int i = 0; i < 50 && written < 8; ++i) {
            now += std::chrono::milliseconds(100);
            a.tick(now);
            for (auto& d : a.take_outgoing()) {
                if (d.to == "bb" && written++ < 8) write("gossip", selected(0, d.bytes));
                (void)b.on_datagram("aa", d.bytes, now);
            }
            b.tick(now);
            for (auto& d : b.take_outgoing()) (void)a.on_datagram("bb", d.bytes, now);
        }
        AcceptingSigner signer;
        PresenceChannel host("aa", PresenceConfig{}, signer), watcher("bb", PresenceConfig{}, signer);
        host.set_members(ids, now);
        watcher.set_members(ids, now);
        host.login(std::string(40, 'u'), now, 1000);
        host.set_privacy(std::string(40, 'u'), {}, now);
        (void)watcher.watch(std::string(40, 'w'), std::string(40, 'u'), now);
        for (int round = 0; round < 4; ++round) {
            for (auto& d : host.take_outgoing()) {
                write("gossip", selected(1, d.bytes));
                (void)watcher.on_datagram("aa", d.bytes, now);
            }
            for (auto& d : watcher.take_outgoing()) (void)host.on_datagram("bb", d.bytes, now);
            (void)host.set(std::string(40, 'u'), round % 2 ? "away" : "busy", "x", now, 2000 + round);
        }
    }

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
    std::printf("seed corpus written to %s\n", out_dir.c_str());
    return 0;
}
