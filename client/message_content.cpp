#include "client/message_content.h"

#include <array>

#include "common/msgpack_io.h"
#include "crypto/aead.h"
#include "crypto/signing.h"

namespace dhtalk::client {
namespace {

constexpr size_t kMaxKindBytes = 16;
constexpr size_t kMaxRefBytes = 64;  // a message id

}  // namespace

std::string new_message_id() {
    std::array<uint8_t, 16> bytes{};
    crypto::random_bytes(bytes);
    return crypto::to_hex(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

std::string encode_content(const MessageContent& c) {
    msgpack::sbuffer buf;
    MsgpackPacker pk(buf);
    pk.pack_array(7);
    pk.pack(kContentFormat);
    pack_str(pk, c.kind);
    pack_str(pk, c.text);
    pk.pack(c.sent_ms);
    pack_str_list(pk, c.refs);
    pack_bin(pk, c.attachment);
    pack_str(pk, c.to);
    return {buf.data(), buf.size()};
}

Result<MessageContent> decode_content(std::string_view bytes) {
    auto decoded = decode_guarded<MessageContent>("message content", [&]() -> Result<MessageContent> {
        const msgpack::unpack_limit limit(/*array*/ kMaxReceiptRefs, /*map*/ 0, /*str*/ kMaxTextBytes, /*bin*/ kMaxPrivacyContentBytes,
                                          /*ext*/ 0, /*depth*/ 2);
        auto h = unpack_whole(bytes.data(), bytes.size(), limit, "message content");
        Fields f(h.get(), 7, "message content");
        if (f.uint(UINT64_MAX) != kContentFormat) f.fail("format " + std::to_string(kContentFormat));
        MessageContent c;
        c.kind = f.str(kMaxKindBytes);
        c.text = f.str(kMaxTextBytes);
        c.sent_ms = f.sint();
        c.refs = f.str_list(kMaxReceiptRefs, kMaxRefBytes);
        c.attachment = f.bin(kMaxPrivacyContentBytes);
        c.to = f.str(kMaxRefBytes);
        if (!c.to.empty() && c.kind != "text" && c.kind != "file") f.fail("a recipient only in a copy of a text or file");
        if (c.kind != "file" && c.kind != "privacy" && !c.attachment.empty()) f.fail("an attachment only in a file");
        if (c.kind == "file" && c.attachment.size() > kMaxAttachmentBytes) f.fail("a file's descriptor within its bound");
        if (c.kind == "text" || c.kind == "file") {
            if (!c.refs.empty()) f.fail("a text or file that refers to no message");
            if (c.kind == "file" && c.attachment.empty()) f.fail("a file with its attachment");
        } else if (c.kind == "privacy") {
            if (c.attachment.empty() || !c.text.empty() || !c.refs.empty()) f.fail("a privacy list alone");
        } else if (c.kind == "delivered" || c.kind == "read") {
            if (c.refs.empty() || !c.text.empty()) f.fail("a receipt for one or more messages, without text");
        } else {
            f.fail("a kind this client knows");
        }
        return c;
    });
    if (!decoded) return Status::corruption(decoded.status().message());
    return decoded;
}

}  // namespace dhtalk::client
