#include "roster/roster_documents.h"

#include <msgpack.hpp>

#include "common/msgpack_io.h"
#include "common/signed_document.h"

namespace dhtalk {
namespace {

using Packer = MsgpackPacker;

msgpack::unpack_limit document_limit() {
    return msgpack::unpack_limit(/*array*/ 2 * kMaxMembers + 16, /*map*/ 0, /*str*/ 16 * 1024,
                                 /*bin*/ kMaxDocumentBytes, /*ext*/ 0, /*depth*/ 8);
}

void pack_advert(Packer& pk, const MemberAdvert& a) {
    pk.pack_array(2);
    pack_str_list(pk, a.client_endpoints);
    pk.pack(a.media_offer_mib);
}

MemberAdvert read_advert(const msgpack::object& o) {
    Fields f(o, 2, "member advert");
    MemberAdvert a;
    a.client_endpoints = f.str_list(kMaxEndpoints, kMaxTextBytes);
    a.media_offer_mib = static_cast<uint32_t>(f.uint(UINT32_MAX));
    return a;
}

void pack_member(Packer& pk, const Member& m) {
    pk.pack_array(6);
    pack_str(pk, m.node_id);
    pack_str(pk, m.certificate);
    pack_str_list(pk, m.endpoints);
    pack_str(pk, m.contact);
    pack_bin(pk, m.fast_key);
    pack_advert(pk, m.advert);
}

std::string document(std::string_view body, std::string_view signature) {
    return pack_signed(kRosterFormatVersion, body, signature);
}

Member read_member(const msgpack::object& o) {
    Fields f(o, 6, "member");
    Member m;
    m.node_id = f.str(40);
    m.certificate = f.str(8 * 1024);
    m.endpoints = f.str_list(kMaxEndpoints, kMaxTextBytes);
    m.contact = f.str(kMaxTextBytes);
    m.fast_key = f.bin(64);  // roster_rules.h checks its exact size
    m.advert = read_advert(f.next());
    return m;
}

template <class E>
E read_enum(Fields& f, E last) {
    return static_cast<E>(f.uint(static_cast<uint64_t>(last)));
}

SignedParts open_envelope(std::string_view bytes, const char* what) {
    static const SignedFormat format{kRosterFormatVersion, kMaxDocumentBytes, document_limit(),
                                     " (a network founded by an older dhtalk must be founded again)",
                                     " (upgrade this node)"};
    return unpack_signed(bytes, format, what);
}

Ballot read_ballot_body(const msgpack::object& o, std::string signature) {
    Fields f(o, 7, "ballot");
    Ballot b;
    b.network_id = static_cast<uint32_t>(f.uint(UINT32_MAX));
    b.epoch = f.uint(UINT64_MAX);
    b.voter = f.str(40);
    b.change = read_enum(f, ChangeKind::kBan);
    b.subject = f.str(40);
    b.decision = read_enum(f, Decision::kReject);
    b.reason = f.str(kMaxTextBytes);
    b.signature = std::move(signature);
    return b;
}

}  // namespace

const char* quorum_rule_name(QuorumRule r) { return r == QuorumRule::kTwoThirds ? "two-thirds" : "majority"; }

Result<QuorumRule> parse_quorum_rule(std::string_view name) {
    if (name == "majority") return QuorumRule::kMajority;
    if (name == "two-thirds") return QuorumRule::kTwoThirds;
    return Status::invalid("unknown quorum rule '" + std::string(name) + "' (expected majority or two-thirds)");
}

const Member* RosterEpoch::member(std::string_view node_id) const {
    for (const auto& m : members)
        if (m.node_id == node_id) return &m;
    return nullptr;
}

std::string body_of(const Application& a) {
    msgpack::sbuffer buf;
    Packer pk(buf);
    pk.pack_array(3);
    pk.pack(a.network_id);
    pack_member(pk, a.applicant);
    pk.pack(a.created_at_s);
    return {buf.data(), buf.size()};
}

std::string body_of(const Ballot& b) {
    msgpack::sbuffer buf;
    Packer pk(buf);
    pk.pack_array(7);
    pk.pack(b.network_id);
    pk.pack(b.epoch);
    pack_str(pk, b.voter);
    pk.pack(static_cast<uint8_t>(b.change));
    pack_str(pk, b.subject);
    pk.pack(static_cast<uint8_t>(b.decision));
    pack_str(pk, b.reason);
    return {buf.data(), buf.size()};
}

std::string body_of(const RosterEpoch& e) {
    msgpack::sbuffer buf;
    Packer pk(buf);
    pk.pack_array(12);
    pk.pack(e.network_id);
    pk.pack(e.epoch);
    pack_bin(pk, e.prev_hash);
    pk.pack_array(3);
    pack_str(pk, e.settings.name);
    pk.pack(static_cast<uint8_t>(e.settings.quorum));
    pack_str(pk, e.settings.user_id_scheme);
    pk.pack_array(static_cast<uint32_t>(e.members.size()));
    for (const auto& m : e.members) pack_member(pk, m);
    pack_str_list(pk, e.revoked);
    pk.pack(static_cast<uint8_t>(e.change));
    pack_str(pk, e.subject);
    pk.pack_array(static_cast<uint32_t>(e.ballots.size()));
    for (const auto& b : e.ballots) pack_bin(pk, encode(b));
    pk.pack_array(static_cast<uint32_t>(e.keys.size()));
    for (const auto& k : e.keys) {
        pk.pack_array(2);
        pack_str(pk, k.node_id);
        pack_bin(pk, k.sealed);
    }
    pack_bin(pk, e.key_digest);
    pack_str(pk, e.assembler);
    return {buf.data(), buf.size()};
}

std::string body_of(const MemberUpdate& u) {
    msgpack::sbuffer buf;
    Packer pk(buf);
    pk.pack_array(4);
    pk.pack(u.network_id);
    pack_str(pk, u.node_id);
    pk.pack(u.serial);
    pack_advert(pk, u.advert);
    return {buf.data(), buf.size()};
}

std::string encode(const Application& a) { return document(body_of(a), a.signature); }
std::string encode(const Ballot& b) { return document(body_of(b), b.signature); }
std::string encode(const RosterEpoch& e) { return document(body_of(e), e.signature); }
std::string encode(const MemberUpdate& u) { return document(body_of(u), u.signature); }

Result<Application> decode_application(std::string_view bytes) {
    return decode_guarded<Application>("application", [&] {
        auto env = open_envelope(bytes, "application");
        Fields f(env.body.get(), 3, "application");
        Application a;
        a.network_id = static_cast<uint32_t>(f.uint(UINT32_MAX));
        a.applicant = read_member(f.next());
        a.created_at_s = f.sint();
        a.signature = std::move(env.signature);
        return a;
    });
}

Result<MemberUpdate> decode_member_update(std::string_view bytes) {
    return decode_guarded<MemberUpdate>("member update", [&] {
        auto env = open_envelope(bytes, "member update");
        Fields f(env.body.get(), 4, "member update");
        MemberUpdate u;
        u.network_id = static_cast<uint32_t>(f.uint(UINT32_MAX));
        u.node_id = f.str(40);
        u.serial = f.uint(UINT64_MAX);
        u.advert = read_advert(f.next());
        u.signature = std::move(env.signature);
        return u;
    });
}

Result<Ballot> decode_ballot(std::string_view bytes) {
    return decode_guarded<Ballot>("ballot", [&] {
        auto env = open_envelope(bytes, "ballot");
        return read_ballot_body(env.body.get(), std::move(env.signature));
    });
}

Result<RosterEpoch> decode_roster_epoch(std::string_view bytes) {
    return decode_guarded<RosterEpoch>("roster epoch", [&] {
        auto env = open_envelope(bytes, "roster epoch");
        Fields f(env.body.get(), 12, "roster epoch");
        RosterEpoch e;
        e.network_id = static_cast<uint32_t>(f.uint(UINT32_MAX));
        e.epoch = f.uint(UINT64_MAX);
        e.prev_hash = f.bin(32);
        Fields s(f.next(), 3, "network settings");
        e.settings.name = s.str(kMaxTextBytes);
        e.settings.quorum = read_enum(s, QuorumRule::kTwoThirds);
        e.settings.user_id_scheme = s.str(64);
        for (const auto& m : f.array(kMaxMembers)) e.members.push_back(read_member(m));
        e.revoked = f.str_list(kMaxRevoked, 40);
        e.change = read_enum(f, ChangeKind::kBan);
        e.subject = f.str(40);
        for (const auto& b : f.array(kMaxMembers)) {
            if (b.type != msgpack::type::BIN) f.fail("a list of ballots");
            auto ballot = decode_ballot({b.via.bin.ptr, b.via.bin.size});
            if (!ballot) throw DecodeError{"roster epoch: " + ballot.status().message()};
            e.ballots.push_back(std::move(ballot).value());
        }
        for (const auto& k : f.array(kMaxMembers)) {
            Fields kf(k, 2, "sealed epoch key");
            e.keys.push_back({kf.str(40), kf.bin(1024)});
        }
        e.key_digest = f.bin(32);
        e.assembler = f.str(40);
        e.signature = std::move(env.signature);
        return e;
    });
}

}  // namespace dhtalk
