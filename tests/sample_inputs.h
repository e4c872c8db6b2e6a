#pragma once
// Valid inputs for the decoders of outside input, made with the project's
// own encoders. The mutation tests (decoder_fuzz_test.cpp) mutate them, and
// fuzz/seed_corpus.cpp writes them out as the libFuzzer seed corpus.
// Header-only; each call builds its inputs afresh.

#include <chrono>
#include <string>
#include <vector>

#include "crypto/node_identity.h"
#include "crypto/user_certificate.h"
#include "records/record.h"
#include "records/record_bodies.h"
#include "node/gossip/presence.h"
#include "node/front/registrar_messages.h"
#include "node/gossip/swim.h"

namespace dhtalk::test {

// Signs with "s" and accepts "s" from any member: presence without RSA.
class AcceptingSigner final : public PresenceSigner {
public:
    std::string sign(std::string_view) override { return "s"; }
    bool verify(const std::string&, std::string_view, std::string_view sig) override { return sig == "s"; }
};

// A vCard record of user "aaa…", certified by `issuer` for network 5.
inline std::string sample_record_envelope(const crypto::NodeIdentity& issuer) {
    auto key = crypto::generate_user_key().value();
    const std::string user(40, 'a');
    crypto::IssueRequest req;
    req.csr_pem = crypto::make_certificate_request(*key, user).value();
    req.user_id = user;
    req.network_id = 5;
    req.now = std::chrono::system_clock::now();
    Record r;
    r.type = RecordType::kVCard;
    r.user_id = user;
    r.sequence = 1;
    r.expires_at_s = 2'000'000'000;
    r.body = encode_vcard({"n", "s", "", "k", "p"});
    r.certificate = crypto::issue_user_certificate(req, issuer).value();
    return seal_record(r, *key).value();
}

struct SampleBodies {
    std::string vcard, privacy, media, media_reference;
};

inline SampleBodies sample_bodies() {
    PrivacyList p;
    p.blocked = {std::string(40, 'b')};
    p.allowed = {std::string(40, 'c')};
    MediaMetadata m;
    m.file_id = std::string(32, 'f');
    m.type = "image/png";
    return {encode_vcard({"name", "status", "avatar", "key", "pgp"}), encode_privacy(p).value(), encode_media(m),
            "dhtalk-media:1:" + std::string(40, 'a') + ":" + std::string(64, '0') + ":" + std::string(64, '1')};
}

inline const std::vector<std::string>& sample_member_ids() {
    static const std::vector<std::string> ids{"aa", "bb", "cc", "dd"};
    return ids;
}

// Membership datagrams of a few SWIM rounds between members "aa" and "bb",
// both ways.
inline std::vector<std::string> sample_swim_datagrams() {
    SteadyTime now{};
    Swim a("aa", SwimConfig{}, 1), b("bb", SwimConfig{}, 2);
    a.set_members(sample_member_ids(), now);
    b.set_members(sample_member_ids(), now);
    std::vector<std::string> out;
    for (int i = 0; i < 50 && out.size() < 20; ++i) {
        now += std::chrono::milliseconds(100);
        a.tick(now);
        for (auto& d : a.take_outgoing()) {
            out.push_back(d.bytes);
            (void)b.on_datagram("aa", d.bytes, now);
        }
        b.tick(now);
        for (auto& d : b.take_outgoing()) out.push_back(d.bytes);
    }
    return out;
}

// Presence messages between host "aa" (user "uuu…" online, changing status)
// and watcher "bb" (watching for "www…"), both ways, over five rounds.
inline std::vector<std::string> sample_presence_messages() {
    SteadyTime now{};
    AcceptingSigner signer;
    PresenceChannel host("aa", PresenceConfig{}, signer), watcher("bb", PresenceConfig{}, signer);
    host.set_members(sample_member_ids(), now);
    watcher.set_members(sample_member_ids(), now);
    const std::string user(40, 'u');
    host.login(user, now, 1000);
    host.set_privacy(user, {}, now);
    (void)watcher.watch(std::string(40, 'w'), user, now);
    std::vector<std::string> out;
    for (int round = 0; round < 5; ++round) {
        for (auto& d : host.take_outgoing()) {
            out.push_back(d.bytes);
            (void)watcher.on_datagram("aa", d.bytes, now);
        }
        for (auto& d : watcher.take_outgoing()) {
            out.push_back(d.bytes);
            (void)host.on_datagram("bb", d.bytes, now);
        }
        (void)host.set(user, round % 2 ? "away" : "busy", "x", now, 2000 + round);
    }
    return out;
}

// A registrar request of each kind and a verdict, as the peer service reads
// them (the decoders check no signature, so these carry placeholder bytes).
inline std::vector<std::string> sample_registrar_messages() {
    RegistrarRequest r;
    r.network_id = 5;
    r.from = std::string(40, 'a');
    r.to = std::string(40, 'b');
    r.user_id = std::string(40, 'u');
    r.address = "192.0.2.1";
    r.sent_ms = 1'800'000'000'000;
    r.nonce = std::string(16, 'n');
    r.sealed = std::string(1 + 32 + 16 + 16, 's');  // a sealed number (crypto/fast_seal.h)
    r.signature = std::string(64, 'g');
    std::vector<std::string> out{encode(r)};
    r.kind = RegistrarRequest::Kind::kCheck;
    out.push_back(encode(r));
    RegistrarVerdict v;
    v.network_id = 5;
    v.from = r.to;
    v.request_digest = std::string(32, 'd');
    v.code = Code::kPermissionDenied;
    v.message = "wrong verification code";
    v.signature = std::string(64, 'g');
    out.push_back(encode(v));
    return out;
}

}  // namespace dhtalk::test
