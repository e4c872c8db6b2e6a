#include "net/inbox_message.h"

#include <msgpack.hpp>

#include "common/msgpack_io.h"

namespace dhtalk {
namespace {

constexpr size_t kFields = 7;  // format, recipient, sender, id, sent, expires, body
// The last millisecond of the year 9999: far beyond any expiry.
constexpr int64_t kLatestExpiryMs = 253402300799999;

}  // namespace

std::string inbox_address(std::string_view user_id, std::string_view device_id) {
    return std::string(user_id) + "-" + std::string(device_id);
}

std::string_view address_user(std::string_view address) {
    const auto dash = address.rfind('-');
    return dash == std::string_view::npos ? address : address.substr(0, dash);
}

std::string_view address_device(std::string_view address) {
    const auto dash = address.rfind('-');
    return dash == std::string_view::npos ? std::string_view{} : address.substr(dash + 1);
}

bool is_inbox_id(std::string_view id) {
    if (id.empty() || id.size() > kMaxInboxIdBytes) return false;
    for (char c : id) {
        const bool ok = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c == '-';
        if (!ok) return false;
    }
    return true;
}

Status check_inbox_message(const InboxMessage& m, size_t max_body_bytes) {
    if (!is_inbox_id(m.recipient)) return Status::invalid("the recipient is not a user id");
    if (!is_inbox_id(m.sender)) return Status::invalid("the sender is not a user id");
    if (!is_inbox_id(m.id)) return Status::invalid("a message id is 1 to 64 of 0-9, A-Z, a-z, '_' and '-'");
    if (m.body.empty()) return Status::invalid("an empty message");
    if (m.body.size() > max_body_bytes)
        return Status::invalid("a message of " + std::to_string(m.body.size()) + " bytes is over the limit of " +
                               std::to_string(max_body_bytes));
    if (m.expires_ms <= 0 || m.expires_ms > kLatestExpiryMs) return Status::invalid("the message's expiry is out of range");
    return Status::ok();
}

std::string encode(const InboxMessage& m) {
    msgpack::sbuffer buf;
    MsgpackPacker pk(buf);
    pk.pack_array(kFields);
    pk.pack(kInboxMessageFormat);
    pack_str(pk, m.recipient);
    pack_str(pk, m.sender);
    pack_str(pk, m.id);
    pk.pack(m.sent_ms);
    pk.pack(m.expires_ms);
    pack_bin(pk, m.body);
    return {buf.data(), buf.size()};
}

size_t encoded_size_bound(const InboxMessage& m) {
    // The array and format (2), three texts' headers (2 each), two integers
    // (9 each), the body's header (5).
    return 31 + m.recipient.size() + m.sender.size() + m.id.size() + m.body.size();
}

Result<InboxMessage> decode_inbox_message(std::string_view bytes) {
    if (bytes.size() > kMaxEncodedMessageBytes) return Status::invalid("a message over its bound");
    return decode_guarded<InboxMessage>("message", [&] {
        const msgpack::unpack_limit limit(/*array*/ kFields, /*map*/ 0, /*str*/ kMaxInboxIdBytes,
                                          /*bin*/ kMaxMessageBytes, /*ext*/ 0, /*depth*/ 1);
        auto handle = unpack_whole(bytes.data(), bytes.size(), limit, "message");
        Fields f(handle.get(), kFields, "message");
        if (const auto v = f.uint(UINT32_MAX); v != kInboxMessageFormat)
            throw DecodeError{"message format " + std::to_string(v) + " is not " + std::to_string(kInboxMessageFormat)};
        InboxMessage m;
        m.recipient = f.str(kMaxInboxIdBytes);
        m.sender = f.str(kMaxInboxIdBytes);
        m.id = f.str(kMaxInboxIdBytes);
        m.sent_ms = f.sint();
        m.expires_ms = f.sint();
        m.body = f.bin(kMaxMessageBytes);
        return m;
    });
}

}  // namespace dhtalk
