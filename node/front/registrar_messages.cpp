#include "node/front/registrar_messages.h"

#include <msgpack.hpp>

#include "common/msgpack_io.h"
#include "common/signed_document.h"

namespace dhtalk {
namespace {

constexpr size_t kMaxNodeIdChars = 40;
constexpr size_t kMaxUserIdChars = 64;
constexpr size_t kMaxAddressChars = 64;
constexpr size_t kMaxSealedBytes = 256;  // a sealed number: 49 bytes of sealing and at most 16 digits and a '+'
constexpr size_t kMaxMessageChars = 512;

msgpack::unpack_limit message_limit() {
    return msgpack::unpack_limit(/*array*/ 16, /*map*/ 0, /*str*/ kMaxMessageChars, /*bin*/ kMaxRegistrarMessageBytes,
                                 /*ext*/ 0, /*depth*/ 4);
}

std::string message(std::string_view body, std::string_view signature) {
    return pack_signed(kRegistrarFormatVersion, body, signature);
}

SignedParts open_message(std::string_view bytes, const char* what) {
    static const SignedFormat format{kRegistrarFormatVersion, kMaxRegistrarMessageBytes, message_limit()};
    return unpack_signed(bytes, format, what);
}

}  // namespace

std::string body_of(const RegistrarRequest& r) {
    msgpack::sbuffer buf;
    MsgpackPacker pk(buf);
    pk.pack_array(9);
    pk.pack(static_cast<uint8_t>(r.kind));
    pk.pack(r.network_id);
    pack_str(pk, r.from);
    pack_str(pk, r.to);
    pack_str(pk, r.user_id);
    pack_str(pk, r.address);
    pk.pack(r.sent_ms);
    pack_bin(pk, r.nonce);
    pack_bin(pk, r.sealed);
    return {buf.data(), buf.size()};
}

std::string body_of(const RegistrarVerdict& v) {
    msgpack::sbuffer buf;
    MsgpackPacker pk(buf);
    pk.pack_array(6);
    pk.pack(v.network_id);
    pack_str(pk, v.from);
    pack_bin(pk, v.request_digest);
    pk.pack(static_cast<uint8_t>(v.code));
    pack_str(pk, v.message);
    pk.pack(v.expires_in_s);
    return {buf.data(), buf.size()};
}

std::string encode(const RegistrarRequest& r) { return message(body_of(r), r.signature); }
std::string encode(const RegistrarVerdict& v) { return message(body_of(v), v.signature); }

Result<RegistrarRequest> decode_registrar_request(std::string_view bytes) {
    return decode_guarded<RegistrarRequest>("registrar request", [&] {
        auto o = open_message(bytes, "registrar request");
        Fields f(o.body.get(), 9, "registrar request");
        RegistrarRequest r;
        const uint64_t kind = f.uint(UINT8_MAX);
        if (kind != static_cast<uint8_t>(RegistrarRequest::Kind::kCode) &&
            kind != static_cast<uint8_t>(RegistrarRequest::Kind::kCheck))
            f.fail("a request kind (1 code, 2 check)");
        r.kind = static_cast<RegistrarRequest::Kind>(kind);
        r.network_id = static_cast<uint32_t>(f.uint(UINT32_MAX));
        r.from = f.str(kMaxNodeIdChars);
        r.to = f.str(kMaxNodeIdChars);
        r.user_id = f.str(kMaxUserIdChars);
        r.address = f.str(kMaxAddressChars);
        r.sent_ms = f.sint();
        if (r.sent_ms < 0) f.fail("a time since 1970");
        r.nonce = f.bin(kRegistrarNonceBytes);
        if (r.nonce.size() != kRegistrarNonceBytes) f.fail("a nonce of " + std::to_string(kRegistrarNonceBytes) + " bytes");
        r.sealed = f.bin(kMaxSealedBytes);
        r.signature = std::move(o.signature);
        return r;
    });
}

Result<RegistrarVerdict> decode_registrar_verdict(std::string_view bytes) {
    return decode_guarded<RegistrarVerdict>("registrar verdict", [&] {
        auto o = open_message(bytes, "registrar verdict");
        Fields f(o.body.get(), 6, "registrar verdict");
        RegistrarVerdict v;
        v.network_id = static_cast<uint32_t>(f.uint(UINT32_MAX));
        v.from = f.str(kMaxNodeIdChars);
        v.request_digest = f.bin(32);
        v.code = static_cast<Code>(f.uint(static_cast<uint64_t>(Code::kInternal)));
        v.message = f.str(kMaxMessageChars);
        v.expires_in_s = f.uint(UINT32_MAX);
        v.signature = std::move(o.signature);
        return v;
    });
}

}  // namespace dhtalk
