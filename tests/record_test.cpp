// Records and user certificates: what a storing node accepts, and every
// hostile case it must refuse (issue: records in the DHT).
#include <opendht.h>

#include "tests/doctest.h"
#include <msgpack.hpp>
#include <gnutls/abstract.h>
#include <gnutls/x509.h>

#include "crypto/signing.h"
#include "crypto/user_certificate.h"
#include "crypto/user_id.h"
#include "records/record.h"
#include "records/record_bodies.h"
#include "dht/issuance_ledger.h"
#include "dht/issuance_log.h"
#include "dht/record_validator.h"
#include "storage/memory_store.h"
#include "testing/test_util.h"

using namespace dhtalk;
using namespace std::chrono;

namespace {

constexpr uint32_t kNetwork = 0x1234abcd;

struct User {
    std::string id;
    std::shared_ptr<dht::crypto::PrivateKey> key;
    std::string cert;
};

// Two member nodes (a, b), one outsider; users issued by each.
struct World {
    test::TempDir dir;
    crypto::NodeIdentity a = crypto::load_or_create_identity(dir / "a", 2048).value();
    crypto::NodeIdentity b = crypto::load_or_create_identity(dir / "b", 2048).value();
    crypto::NodeIdentity outsider = crypto::load_or_create_identity(dir / "o", 2048).value();
    ManualClock clock;
    std::map<std::string, std::string> members{{a.node_id_hex(), a.fast_public}, {b.node_id_hex(), b.fast_public}};
    RecordValidator validator{kNetwork,
                              [this](const std::string& id) {
                                  auto it = members.find(id);
                                  return it == members.end() ? std::string() : it->second;
                              },
                              clock};

    User user(const std::string& phone, const crypto::NodeIdentity& issuer, uint32_t network = kNetwork,
              seconds validity = crypto::kUserCertificateValidity) {
        User u;
        u.id = crypto::derive_user_id("kontalk-sha1", phone).value();
        u.key = crypto::generate_user_key().value();
        crypto::IssueRequest r;
        r.csr_pem = crypto::make_certificate_request(*u.key, u.id).value();
        r.user_id = u.id;
        r.network_id = network;
        r.now = clock.wall_now();
        r.validity = validity;
        auto issued = crypto::issue_user_certificate(r, issuer); if (!issued) MESSAGE(issued.status().to_string());
        u.cert = std::move(issued).value();
        return u;
    }
    Record vcard(const User& u, uint64_t seq = 1) {
        Record r;
        r.type = RecordType::kVCard;
        r.user_id = u.id;
        r.sequence = seq;
        r.expires_at_s = to_unix_seconds(clock.wall_now()) + 86400;
        r.body = encode_vcard({"Alice", "here", "", "", ""});
        r.certificate = u.cert;
        return r;
    }
    Status check(const Record& r, const std::string& envelope) {
        return validator.check(record_key(r.type, r.user_id, r.locator), r.type, envelope).status();
    }
};

}  // namespace

TEST_CASE("a user certificate names the user, the network and the issuing node") {
    World w;
    const User u = w.user("+15555245554", w.a);
    auto cert = crypto::parse_certificate(u.cert).value();
    auto info = crypto::inspect_user_certificate(*cert).value();
    CHECK(info.user_id == u.id);
    CHECK(info.network_id == kNetwork);
    CHECK(info.issuer_node_id == w.a.node_id_hex());
    // Signed with a's fast key, the one the roster lists for it.
    CHECK(crypto::issued_with_fast_key(*cert, w.a.fast_public));
    CHECK_FALSE(crypto::issued_with_fast_key(*cert, w.b.fast_public));
    CHECK_FALSE(crypto::issued_with_fast_key(*cert, ""));
    CHECK(w.validator.check_certificate(*cert));
}

TEST_CASE("a user certificate signed with another key than its issuer's fast key is refused") {
    World w;
    // The outsider signs with its own fast key a certificate that names a.
    crypto::NodeIdentity forger = w.a;
    forger.fast_key = w.outsider.fast_key;
    const User forged = w.user("+15555000010", forger);
    auto cert = crypto::parse_certificate(forged.cert).value();
    CHECK(crypto::inspect_user_certificate(*cert).value().issuer_node_id == w.a.node_id_hex());
    auto refused = w.validator.check_certificate(*cert);
    CHECK(refused.status().code() == Code::kPermissionDenied);
    CHECK(refused.status().message().find("not signed by the node it names") != std::string::npos);
    CHECK_FALSE(w.validator.check(record_key(RecordType::kVCard, forged.id), RecordType::kVCard,
                                  seal_record(w.vcard(forged), *forged.key).value()));

    // An older dhtalk's: the same certificate signed with a's RSA identity.
    const User honest = w.user("+15555000011", w.a);
    gnutls_x509_crt_t crt = nullptr;
    REQUIRE(gnutls_x509_crt_init(&crt) == 0);
    const gnutls_datum_t pem{reinterpret_cast<unsigned char*>(const_cast<char*>(honest.cert.data())),
                             static_cast<unsigned>(honest.cert.size())};
    REQUIRE(gnutls_x509_crt_import(crt, &pem, GNUTLS_X509_FMT_PEM) == 0);
    REQUIRE(gnutls_x509_crt_privkey_sign(crt, w.a.certificate->cert, w.a.key->key, GNUTLS_DIG_SHA256, 0) == 0);
    gnutls_datum_t der{nullptr, 0};
    REQUIRE(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &der) == 0);
    dht::crypto::Certificate rsa_signed(der.data, der.size);
    gnutls_free(der.data);
    gnutls_x509_crt_deinit(crt);
    CHECK(crypto::signed_by(rsa_signed, *w.a.certificate));  // a true RSA signature of a
    CHECK_FALSE(crypto::issued_with_fast_key(rsa_signed, w.a.fast_public));
    auto old = w.validator.check_certificate(rsa_signed);
    CHECK(old.status().code() == Code::kPermissionDenied);
    CHECK(old.status().message().find("older dhtalk") != std::string::npos);
}

TEST_CASE("certificates from non-members, banned nodes, other networks or past their time are refused") {
    World w;
    auto check = [&](const User& u) { return w.validator.check_certificate(*crypto::parse_certificate(u.cert).value()); };
    CHECK(check(w.user("+15555000001", w.outsider)).status().code() == Code::kPermissionDenied);
    const User by_b = w.user("+15555000002", w.b);
    CHECK(check(by_b));
    w.members.erase(w.b.node_id_hex());  // b is banned
    auto banned = check(by_b);
    CHECK(banned.status().code() == Code::kPermissionDenied);
    CHECK(banned.status().message().find("not a member") != std::string::npos);
    CHECK(check(w.user("+15555000003", w.a, kNetwork + 1)).status().message().find("another network") !=
          std::string::npos);
    const User short_lived = w.user("+15555000004", w.a, kNetwork, seconds(60));
    CHECK(check(short_lived));
    w.clock.advance(minutes(2));
    CHECK(check(short_lived).status().message().find("expired") != std::string::npos);
}

TEST_CASE("a certificate request must be signed by its own key and be RSA") {
    World w;
    crypto::IssueRequest r;
    r.user_id = "0123456789abcdef0123456789abcdef01234567";
    r.network_id = kNetwork;
    r.now = w.clock.wall_now();
    r.csr_pem = "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n";
    CHECK(crypto::issue_user_certificate(r, w.a).status().code() == Code::kInvalidArgument);
    r.csr_pem = std::string(crypto::kMaxCertificateRequestBytes + 1, 'x');
    CHECK(crypto::issue_user_certificate(r, w.a).status().code() == Code::kInvalidArgument);
    auto key = crypto::generate_user_key().value();
    std::string csr = crypto::make_certificate_request(*key, r.user_id).value();
    csr[csr.size() / 2] = csr[csr.size() / 2] == 'A' ? 'B' : 'A';  // breaks the request's signature
    r.csr_pem = csr;
    CHECK_FALSE(crypto::issue_user_certificate(r, w.a));
}

TEST_CASE("a signed record of a member-issued user is accepted under its derived key") {
    World w;
    const User u = w.user("+15555245554", w.a);
    const Record r = w.vcard(u);
    const std::string env = seal_record(r, *u.key).value();
    auto opened = w.validator.check(record_key(r.type, u.id), RecordType::kVCard, env);
    REQUIRE(opened);
    CHECK(opened->record.sequence == 1);
    CHECK(decode_vcard(opened->record.body)->name == "Alice");
    CHECK(opened->certificate_info.user_id == u.id);
    CHECK_FALSE(opened->certificate);  // not kept (record_validator.h)
}

TEST_CASE("hostile records are refused with a reason") {
    World w;
    const User alice = w.user("+15555245554", w.a);
    const User bob = w.user("+15555245555", w.b);
    const Record r = w.vcard(alice);

    SUBCASE("unsigned") {
        std::string env = seal_record(r, *alice.key).value();
        // Re-pack with an empty signature.
        auto h = msgpack::unpack(env.data(), env.size());
        msgpack::sbuffer buf;
        msgpack::packer<msgpack::sbuffer> pk(buf);
        pk.pack_array(3);
        pk.pack(kRecordSchemaVersion);
        pk.pack(h.get().via.array.ptr[1]);
        pk.pack_bin(0);
        CHECK(w.check(r, {buf.data(), buf.size()}).code() == Code::kPermissionDenied);
    }
    SUBCASE("signed by another user") {
        CHECK(w.check(r, seal_record(r, *bob.key).value()).code() == Code::kPermissionDenied);
    }
    SUBCASE("a valid record of one user stored under another user's key") {
        const std::string env = seal_record(r, *alice.key).value();
        auto s = w.validator.check(record_key(RecordType::kVCard, bob.id), RecordType::kVCard, env).status();
        CHECK(s.code() == Code::kPermissionDenied);
        CHECK(s.message().find("not derived") != std::string::npos);
    }
    SUBCASE("claims another user with its own certificate") {
        Record forged = r;
        forged.user_id = bob.id;  // Alice's certificate, Bob's id
        CHECK(w.check(forged, seal_record(forged, *alice.key).value()).code() == Code::kPermissionDenied);
    }
    SUBCASE("oversized") {
        Record big = r;
        big.body = std::string(kMaxRecordBodyBytes + 1, 'x');
        auto sealed = seal_record(big, *alice.key);
        const bool accepted = sealed && w.check(big, *sealed);
        CHECK_FALSE(accepted);
        CHECK(w.check(r, std::string(kMaxRecordBytes + 1, '\x90')).code() == Code::kCorruption);
    }
    SUBCASE("unknown schema version") {
        std::string env = seal_record(r, *alice.key).value();
        env[1] = 3;  // [fixarray 3, version, ...]: version 2 becomes 3
        auto s = w.check(r, env);
        CHECK(s.code() == Code::kCorruption);
        CHECK(s.message().find("schema version") != std::string::npos);
    }
    SUBCASE("schema 1, an older dhtalk's with RSA user keys") {
        std::string env = seal_record(r, *alice.key).value();
        env[1] = 1;
        auto s = w.check(r, env);
        CHECK(s.code() == Code::kCorruption);
        CHECK(s.message().find("register again") != std::string::npos);
    }
    SUBCASE("expiry beyond the bound, or already past") {
        Record later = r;
        later.expires_at_s = to_unix_seconds(w.clock.wall_now()) + 31 * 86400;
        CHECK(w.check(later, seal_record(later, *alice.key).value()).message().find("bound") != std::string::npos);
        Record past = r;
        past.expires_at_s = to_unix_seconds(w.clock.wall_now()) - 1;
        CHECK(w.check(past, seal_record(past, *alice.key).value()).code() == Code::kPermissionDenied);
    }
    SUBCASE("issued by a non-member or a banned node") {
        const User stranger = w.user("+15555245556", w.outsider);
        Record s = w.vcard(stranger);
        CHECK(w.check(s, seal_record(s, *stranger.key).value()).code() == Code::kPermissionDenied);
        Record b = w.vcard(bob);
        const std::string env = seal_record(b, *bob.key).value();
        CHECK(w.check(b, env));
        w.members.erase(w.b.node_id_hex());
        CHECK(w.check(b, env).code() == Code::kPermissionDenied);
    }
    SUBCASE("truncated or garbage msgpack") {
        const std::string env = seal_record(r, *alice.key).value();
        for (size_t cut : {size_t(0), size_t(1), env.size() / 2, env.size() - 1})
            CHECK(w.check(r, env.substr(0, cut)).code() == Code::kCorruption);
        CHECK(w.check(r, "\xdd\xff\xff\xff\xff").code() == Code::kCorruption);  // array of 4 billion
        CHECK(w.check(r, "not msgpack at all").code() == Code::kCorruption);
    }
    SUBCASE("a vCard body that does not fit the schema") {
        Record bad = r;
        bad.body = "\x93\x01\x02\x03";
        CHECK(w.check(bad, seal_record(bad, *alice.key).value()).code() == Code::kCorruption);
    }
}

TEST_CASE("an edit needs the same user and a higher sequence") {
    World w;
    const User alice = w.user("+15555245554", w.a);
    const User bob = w.user("+15555245555", w.b);
    const auto key = record_key(RecordType::kVCard, alice.id);
    const std::string v5 = seal_record(w.vcard(alice, 5), *alice.key).value();
    CHECK(w.validator.check_edit(key, RecordType::kVCard, v5, seal_record(w.vcard(alice, 6), *alice.key).value()));
    auto stale = w.validator.check_edit(key, RecordType::kVCard, v5, seal_record(w.vcard(alice, 4), *alice.key).value());
    CHECK(stale.code() == Code::kPermissionDenied);
    CHECK_FALSE(w.validator.check_edit(key, RecordType::kVCard, v5, v5));  // equal sequence
    CHECK_FALSE(w.validator.check_edit(key, RecordType::kVCard, v5, seal_record(w.vcard(bob, 9), *bob.key).value()));
}

TEST_CASE("a privacy list is ciphertext to storing nodes and opens only with the owner's key") {
    World w;
    const User alice = w.user("+15555245554", w.a);
    const User bob = w.user("+15555245555", w.b);
    PrivacyList list;
    list.blocked = {bob.id};
    const std::string plain = encode_privacy(list).value();
    Record r;
    r.type = RecordType::kPrivacy;
    r.user_id = alice.id;
    r.sequence = 1;
    r.expires_at_s = to_unix_seconds(w.clock.wall_now()) + 3600;
    r.body = seal_privacy(list, *alice.key).value();
    r.certificate = alice.cert;
    const std::string env = seal_record(r, *alice.key).value();
    CHECK(w.check(r, env));
    CHECK(env.find(bob.id) == std::string::npos);  // the blocked id is not visible to a storing node
    CHECK(env.find(plain) == std::string::npos);
    CHECK(open_privacy(r.body, *bob.key).status().code() == Code::kCorruption);
    CHECK_FALSE(open_privacy(r.body, *w.a.key));  // nor to the issuing node
    auto opened = open_privacy(r.body, *alice.key).value();
    CHECK(opened.blocked == std::vector<std::string>{bob.id});
    CHECK(opened.read_receipts);
}

TEST_CASE("a privacy list keeps the read-receipt setting, and one written before it had one sends them") {
    PrivacyList p;
    p.read_receipts = false;
    CHECK_FALSE(decode_privacy(encode_privacy(p).value()).value().read_receipts);
    auto older = decode_privacy(std::string("\x93\xc3\x90\x90", 4));  // [true, [], []]
    REQUIRE(older);
    CHECK(older->allow_only);
    CHECK(older->read_receipts);
    CHECK_FALSE(decode_privacy(std::string("\x94\xc3\x90\x90\x01", 5)));  // the setting is not true or false
    CHECK_FALSE(decode_privacy(std::string("\x95\xc3\x90\x90\xc3\xc3", 6)));
}

TEST_CASE("privacy lists and media references refuse malformed input") {
    PrivacyList p;
    p.blocked = {"not-a-user-id"};
    CHECK_FALSE(encode_privacy(p));
    p.blocked.assign(kMaxPrivacyEntries + 1, std::string(40, 'a'));
    CHECK_FALSE(encode_privacy(p));
    CHECK_FALSE(decode_privacy("\x93\xc3\x91\xa1x\x90"));  // [true, ["x"], []]
    CHECK_FALSE(parse_media_reference("dhtalk-media:1:short"));
    MediaReference ref;
    ref.user_id = std::string(40, 'b');
    ref.file_id = std::string(32, '\x07');
    ref.content_key = crypto::random_key();
    auto back = parse_media_reference(ref.to_string()).value();
    CHECK(back.file_id == ref.file_id);
    CHECK(back.content_key == ref.content_key);
    CHECK(back.locator() == ref.locator());
    CHECK(ref.locator().size() == kRecordLocatorBytes);
}

TEST_CASE("no record can pin its key: sequences ahead of the clock are refused") {
    World w;
    const User alice = w.user("+15555245554", w.a);
    const auto now_ms = static_cast<uint64_t>(to_unix_millis(w.clock.wall_now()));
    const uint64_t skew_ms = duration_cast<milliseconds>(kRecordClockSkew).count();
    Record pin = w.vcard(alice, UINT64_MAX);
    auto s = w.check(pin, seal_record(pin, *alice.key).value());
    CHECK(s.code() == Code::kPermissionDenied);
    CHECK(s.message().find("ahead of the clock") != std::string::npos);
    Record edge = w.vcard(alice, now_ms + skew_ms);
    CHECK(w.check(edge, seal_record(edge, *alice.key).value()));
    Record beyond = w.vcard(alice, now_ms + skew_ms + 1);
    CHECK_FALSE(w.check(beyond, seal_record(beyond, *alice.key).value()));
}

TEST_CASE("a stored record that expired or lost its issuer is replaced by any acceptable one") {
    World w;
    const User bob = w.user("+15555245555", w.b);
    const auto key = record_key(RecordType::kVCard, bob.id);
    const std::string high = seal_record(w.vcard(bob, 1000), *bob.key).value();
    const std::string low = seal_record(w.vcard(bob, 10), *bob.key).value();
    CHECK_FALSE(w.validator.check_edit(key, RecordType::kVCard, high, low));
    SUBCASE("expired") {
        Record soon = w.vcard(bob, 1000);
        soon.expires_at_s = to_unix_seconds(w.clock.wall_now()) + 60;
        const std::string held = seal_record(soon, *bob.key).value();
        CHECK_FALSE(w.validator.check_edit(key, RecordType::kVCard, held, low));
        w.clock.advance(minutes(2));
        CHECK(w.validator.check_edit(key, RecordType::kVCard, held, low));
    }
    SUBCASE("its issuer is no longer a member") {
        // Bob's node b is banned; Bob registers again through node a.
        w.members.erase(w.b.node_id_hex());
        const User again = w.user("+15555245555", w.a);
        const std::string fresh = seal_record(w.vcard(again, 10), *again.key).value();
        CHECK(w.validator.check_edit(key, RecordType::kVCard, high, fresh));
    }
}

TEST_CASE("record values carry their type's one value id") {
    World w;
    const User alice = w.user("+15555245554", w.a);
    const Record r = w.vcard(alice);
    const std::string env = seal_record(r, *alice.key).value();
    const auto key = record_key(r.type, alice.id);
    const dht::Blob blob(env.begin(), env.end());
    dht::Value good(record_value_type(RecordType::kVCard), blob, kRecordValueId);
    CHECK(check_record_value(w.validator, key, RecordType::kVCard, &good));
    dht::Value other_id(record_value_type(RecordType::kVCard), blob, kRecordValueId + 1);
    auto s = check_record_value(w.validator, key, RecordType::kVCard, &other_id);
    CHECK(s.code() == Code::kPermissionDenied);
    CHECK(s.message().find("with id") != std::string::npos);
    dht::Value plain(dht::ValueType::USER_DATA.id, blob, kRecordValueId);
    CHECK_FALSE(check_record_value(w.validator, key, RecordType::kVCard, &plain));
    CHECK_FALSE(check_record_value(w.validator, key, RecordType::kVCard, nullptr));
}

TEST_CASE("a login stays acceptable only while its issuer is a member and its certificate valid") {
    World w;
    const User bob = w.user("+15555245555", w.b, kNetwork, std::chrono::hours(1));
    auto info = w.validator.check_certificate(*crypto::parse_certificate(bob.cert).value());
    REQUIRE(info);
    CHECK(w.validator.check_login(*info));
    SUBCASE("expired") {
        w.clock.advance(std::chrono::hours(2));
        CHECK(w.validator.check_login(*info).code() == Code::kPermissionDenied);
    }
    SUBCASE("issuer banned") {
        w.members.erase(w.b.node_id_hex());
        CHECK(w.validator.check_login(*info).code() == Code::kPermissionDenied);
    }
}

TEST_CASE("an issuance log entry is a member's certificate in its own user's log, and nothing else is") {
    World w;
    const User alice = w.user("+15555245554", w.a);
    const User bob = w.user("+15555245555", w.b);
    const auto key = issuance_log_key(alice.id);
    auto issued = check_issued(w.validator, key, alice.cert);
    REQUIRE(issued);
    CHECK(issued->info.issuer_node_id == w.a.node_id_hex());
    CHECK(issued->id == issuance_value_id(alice.cert));

    dht::Value good(kIssuanceValueType, dht::Blob(alice.cert.begin(), alice.cert.end()), issuance_value_id(alice.cert));
    CHECK(check_issued_value(w.validator, key, &good));
    // Bob's certificate in Alice's log; an outsider's; another network's; garbage.
    CHECK(check_issued(w.validator, key, bob.cert).status().code() == Code::kPermissionDenied);
    const User forged = w.user("+15555245554", w.outsider);
    CHECK(check_issued(w.validator, key, forged.cert).status().code() == Code::kPermissionDenied);
    const User elsewhere = w.user("+15555245554", w.a, kNetwork + 1);
    CHECK_FALSE(check_issued(w.validator, key, elsewhere.cert));
    CHECK(check_issued(w.validator, key, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
              .status().code() == Code::kCorruption);
    CHECK_FALSE(check_issued(w.validator, key, std::string(crypto::kMaxCertificateBytes + 1, 'x')));
    // The right certificate under another value id or type.
    dht::Value other_id(kIssuanceValueType, good.data, good.id + 1);
    CHECK_FALSE(check_issued_value(w.validator, key, &other_id));
    dht::Value other_type(record_value_type(RecordType::kVCard), good.data, good.id);
    CHECK_FALSE(check_issued_value(w.validator, key, &other_type));
    CHECK_FALSE(check_issued_value(w.validator, key, nullptr));
    // Once its issuer leaves the network, it is no longer taken.
    w.members.erase(w.a.node_id_hex());
    CHECK_FALSE(check_issued(w.validator, key, alice.cert));
}

TEST_CASE("the issuance ledger counts each certificate once, caps an issuer's day, forgets old days and skips damage") {
    World w;
    MemoryStore store;
    IssuanceLedger ledger(store, /*max_per_issuer_day*/ 2);
    REQUIRE(ledger.load());
    const User alice = w.user("+15555245554", w.a);
    const User bob = w.user("+15555245555", w.a);
    const User carol = w.user("+15555245556", w.a);
    const User dave = w.user("+15555245557", w.b);
    auto issued = [&](const User& u) { return check_issued(w.validator, issuance_log_key(u.id), u.cert).value(); };
    REQUIRE(ledger.record(issued(alice)));
    REQUIRE(ledger.record(issued(alice)));  // announced again
    REQUIRE(ledger.record(issued(bob)));
    REQUIRE(ledger.record(issued(carol)));  // over node a's cap for the day: marked
    REQUIRE(ledger.record(issued(dave)));
    REQUIRE(store.put("il/garbage", ""));
    auto all = ledger.entries(0, 100).value();
    REQUIRE(all.size() == 4);  // alice, bob, a's cap mark, dave
    size_t marks = 0;
    for (const auto& e : all) marks += e.user_id.empty();
    CHECK(marks == 1);
    bool truncated = false;
    CHECK(ledger.entries(0, 2, &truncated).value().size() == 2);
    CHECK(truncated);
    const uint32_t today = day_of(to_unix_seconds(w.clock.wall_now()));
    CHECK(ledger.entries(today + 1, 100).value().empty());

    // A restart counts what is on disk: the cap still holds.
    IssuanceLedger again(store, 2);
    REQUIRE(again.load());
    REQUIRE(again.record(issued(carol)));
    CHECK(again.entries(0, 100).value().size() == 4);
    CHECK(again.forget_before(today + 1).value() == 5);  // the garbage goes too
    CHECK(again.entries(0, 100).value().empty());
}
