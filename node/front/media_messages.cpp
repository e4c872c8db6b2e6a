#include "node/front/media_messages.h"

#include <msgpack.hpp>

#include "common/msgpack_io.h"
#include "common/signed_document.h"
#include "dht/chunk_store.h"
#include "net/inbox_message.h"

namespace dhtalk {
namespace {

constexpr size_t kMaxNodeIdChars = 40;
constexpr size_t kMaxMediaReasonChars = 512;

SignedParts open_media_message(std::string_view bytes, const char* what) {
    static const SignedFormat format{
        kMediaPeerFormat, kMaxMediaPeerBytes,
        msgpack::unpack_limit(/*array*/ 16, /*map*/ 0, /*str*/ kMaxMediaReasonChars, /*bin*/ kMaxMediaPeerBytes,
                              /*ext*/ 0, /*depth*/ 3)};
    return unpack_signed(bytes, format, what);
}

}  // namespace

std::string body_of(const MediaRequest& r) {
    msgpack::sbuffer buf;
    MsgpackPacker pk(buf);
    pk.pack_array(9);
    pk.pack(static_cast<uint8_t>(r.kind));
    pk.pack(r.network_id);
    pack_str(pk, r.from);
    pack_str(pk, r.to);
    pk.pack(r.sent_ms);
    pack_str(pk, r.chunk_id);
    pack_str(pk, r.owner);
    pk.pack(r.expires_s);
    pack_bin(pk, r.bytes);
    return {buf.data(), buf.size()};
}

std::string body_of(const MediaAnswer& a) {
    msgpack::sbuffer buf;
    MsgpackPacker pk(buf);
    pk.pack_array(6);
    pk.pack(a.network_id);
    pack_str(pk, a.from);
    pack_bin(pk, a.request_digest);
    pk.pack(static_cast<uint8_t>(a.code));
    pack_str(pk, a.message);
    pack_bin(pk, a.bytes);
    return {buf.data(), buf.size()};
}

std::string encode(const MediaRequest& r) { return pack_signed(kMediaPeerFormat, body_of(r), r.signature); }
std::string encode(const MediaAnswer& a) { return pack_signed(kMediaPeerFormat, body_of(a), a.signature); }

Result<MediaRequest> decode_media_request(std::string_view bytes) {
    return decode_guarded<MediaRequest>("media request", [&] {
        auto o = open_media_message(bytes, "media request");
        Fields f(o.body.get(), 9, "media request");
        MediaRequest r;
        const uint64_t kind = f.uint(UINT8_MAX);
        if (kind < 1 || kind > 3) f.fail("a request kind (1 hold, 2 fetch, 3 has)");
        r.kind = static_cast<MediaRequest::Kind>(kind);
        r.network_id = static_cast<uint32_t>(f.uint(UINT32_MAX));
        r.from = f.str(kMaxNodeIdChars);
        r.to = f.str(kMaxNodeIdChars);
        r.sent_ms = f.sint();
        if (r.sent_ms < 0) f.fail("a time since 1970");
        r.chunk_id = f.str(64);
        if (!is_chunk_id(r.chunk_id)) f.fail("a chunk id (64 hex digits)");
        r.owner = f.str(kMaxChunkOwnerBytes);
        r.expires_s = f.sint();
        r.bytes = f.bin(kMaxChunkBytes);
        if (r.kind == MediaRequest::Kind::kHold) {
            if (!is_inbox_id(r.owner) || r.expires_s <= 0 || r.bytes.empty())
                f.fail("a hold with an owner, an expiry and a chunk");
        } else if (!r.owner.empty() || r.expires_s != 0 || !r.bytes.empty()) {
            f.fail("a fetch or has that carries no chunk");
        }
        r.signature = std::move(o.signature);
        return r;
    });
}

Result<MediaAnswer> decode_media_answer(std::string_view bytes) {
    return decode_guarded<MediaAnswer>("media answer", [&] {
        auto o = open_media_message(bytes, "media answer");
        Fields f(o.body.get(), 6, "media answer");
        MediaAnswer a;
        a.network_id = static_cast<uint32_t>(f.uint(UINT32_MAX));
        a.from = f.str(kMaxNodeIdChars);
        a.request_digest = f.bin(32);
        a.code = static_cast<Code>(f.uint(static_cast<uint64_t>(Code::kInternal)));
        a.message = f.str(kMaxMediaReasonChars);
        a.bytes = f.bin(kMaxChunkBytes);
        a.signature = std::move(o.signature);
        return a;
    });
}

}  // namespace dhtalk
