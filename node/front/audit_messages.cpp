#include "node/front/audit_messages.h"

#include <msgpack.hpp>

#include "common/msgpack_io.h"
#include "common/signed_document.h"

namespace dhtalk {
namespace {

constexpr size_t kNodeIdChars = 40;
constexpr size_t kUserIdChars = 64;

SignedParts open_audit_message(std::string_view bytes, size_t max_bytes, const char* what) {
    const SignedFormat format{kAuditFormat, max_bytes,
                              msgpack::unpack_limit(/*array*/ kMaxAuditEntries, /*map*/ 0, /*str*/ kUserIdChars,
                                                    /*bin*/ max_bytes, /*ext*/ 0, /*depth*/ 4)};
    return unpack_signed(bytes, format, what);
}

bool is_hex(std::string_view s) { return s.find_first_not_of("0123456789abcdef") == std::string_view::npos; }

}  // namespace

std::string body_of(const AuditRequest& r) {
    msgpack::sbuffer buf;
    MsgpackPacker pk(buf);
    pk.pack_array(5);
    pk.pack(r.network_id);
    pack_str(pk, r.from);
    pack_str(pk, r.to);
    pk.pack(r.sent_ms);
    pk.pack(r.first_day);
    return {buf.data(), buf.size()};
}

std::string body_of(const AuditAnswer& a) {
    msgpack::sbuffer buf;
    MsgpackPacker pk(buf);
    pk.pack_array(5);
    pk.pack(a.network_id);
    pack_str(pk, a.from);
    pack_bin(pk, a.request_digest);
    pk.pack(a.truncated);
    pk.pack_array(static_cast<uint32_t>(a.entries.size()));
    for (const auto& e : a.entries) {
        pk.pack_array(4);
        pk.pack(e.day);
        pack_str(pk, e.issuer);
        pack_str(pk, e.user_id);
        pk.pack(e.certificate);
    }
    return {buf.data(), buf.size()};
}

std::string encode(const AuditRequest& r) { return pack_signed(kAuditFormat, body_of(r), r.signature); }
std::string encode(const AuditAnswer& a) { return pack_signed(kAuditFormat, body_of(a), a.signature); }

Result<AuditRequest> decode_audit_request(std::string_view bytes) {
    return decode_guarded<AuditRequest>("audit request", [&] {
        auto o = open_audit_message(bytes, kMaxAuditRequestBytes, "audit request");
        Fields f(o.body.get(), 5, "audit request");
        AuditRequest r;
        r.network_id = static_cast<uint32_t>(f.uint(UINT32_MAX));
        r.from = f.str(kNodeIdChars);
        r.to = f.str(kNodeIdChars);
        r.sent_ms = f.sint();
        if (r.sent_ms < 0) f.fail("a time since 1970");
        r.first_day = static_cast<uint32_t>(f.uint(UINT32_MAX));
        r.signature = std::move(o.signature);
        return r;
    });
}

Result<AuditAnswer> decode_audit_answer(std::string_view bytes) {
    return decode_guarded<AuditAnswer>("audit answer", [&] {
        auto o = open_audit_message(bytes, kMaxAuditAnswerBytes, "audit answer");
        Fields f(o.body.get(), 5, "audit answer");
        AuditAnswer a;
        a.network_id = static_cast<uint32_t>(f.uint(UINT32_MAX));
        a.from = f.str(kNodeIdChars);
        a.request_digest = f.bin(32);
        a.truncated = f.boolean();
        for (const auto& item : f.array(kMaxAuditEntries)) {
            Fields e(item, 4, "audit answer: an entry");
            IssuanceEntry entry;
            entry.day = static_cast<uint32_t>(e.uint(UINT32_MAX));
            entry.issuer = e.str(kNodeIdChars);
            entry.user_id = e.str(kUserIdChars);
            entry.certificate = e.uint(UINT64_MAX);
            if (entry.issuer.size() != kNodeIdChars || !is_hex(entry.issuer) || !is_hex(entry.user_id))
                e.fail("a node id and a user id in hex");
            a.entries.push_back(std::move(entry));
        }
        a.signature = std::move(o.signature);
        return a;
    });
}

}  // namespace dhtalk
