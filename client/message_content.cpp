#include "client/message_content.h"

#include "common/msgpack_io.h"

namespace dhtalk::client {
namespace {

constexpr size_t kMaxKindBytes = 16;

}  // namespace

std::string encode_content(const MessageContent& c) {
    msgpack::sbuffer buf;
    MsgpackPacker pk(buf);
    pk.pack_array(4);
    pk.pack(kContentFormat);
    pack_str(pk, c.kind);
    pack_str(pk, c.text);
    pk.pack(c.sent_ms);
    return {buf.data(), buf.size()};
}

Result<MessageContent> decode_content(std::string_view bytes) {
    auto decoded = decode_guarded<MessageContent>("message content", [&]() -> Result<MessageContent> {
        const msgpack::unpack_limit limit(/*array*/ 4, /*map*/ 0, /*str*/ kMaxTextBytes, /*bin*/ 0, /*ext*/ 0,
                                          /*depth*/ 1);
        auto h = unpack_whole(bytes.data(), bytes.size(), limit, "message content");
        Fields f(h.get(), 4, "message content");
        if (f.uint(UINT64_MAX) != kContentFormat) f.fail("format " + std::to_string(kContentFormat));
        MessageContent c;
        c.kind = f.str(kMaxKindBytes);
        c.text = f.str(kMaxTextBytes);
        c.sent_ms = f.sint();
        if (c.kind != "text") f.fail("a kind this client knows");
        return c;
    });
    if (!decoded) return Status::corruption(decoded.status().message());
    return decoded;
}

}  // namespace dhtalk::client
