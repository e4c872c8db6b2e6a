#include "node/front/inbox_messages.h"

#include <msgpack.hpp>

#include "common/msgpack_io.h"
#include "common/signed_document.h"

namespace dhtalk {
namespace {

constexpr size_t kMaxHolderIdChars = 40;
constexpr size_t kMaxInboxReasonChars = 512;

msgpack::unpack_limit inbox_peer_limit() {
    return msgpack::unpack_limit(/*array*/ kMaxInboxBatch, /*map*/ 0, /*str*/ kMaxInboxReasonChars,
                                 /*bin*/ kMaxInboxPeerBytes, /*ext*/ 0, /*depth*/ 4);
}

SignedParts open_inbox_message(std::string_view bytes, const char* what) {
    static const SignedFormat format{kInboxPeerFormat, kMaxInboxPeerBytes, inbox_peer_limit()};
    return unpack_signed(bytes, format, what);
}

void pack_messages(MsgpackPacker& pk, const std::vector<InboxMessage>& messages) {
    pk.pack_array(static_cast<uint32_t>(messages.size()));
    for (const auto& m : messages) pack_bin(pk, encode(m));
}

std::vector<InboxMessage> read_messages(Fields& f) {
    std::vector<InboxMessage> out;
    for (const auto& o : f.array(kMaxInboxBatch)) {
        if (o.type != msgpack::type::BIN) f.fail("a list of encoded messages");
        auto m = decode_inbox_message({o.via.bin.ptr, o.via.bin.size});
        if (!m) throw DecodeError{m.status().message()};
        if (Status ok = check_inbox_message(*m); !ok) throw DecodeError{ok.message()};
        out.push_back(std::move(m).value());
    }
    return out;
}

}  // namespace

std::string body_of(const InboxRequest& r) {
    msgpack::sbuffer buf;
    MsgpackPacker pk(buf);
    // Nine fields unless it lists recipients: what nodes built before the
    // tenth field read.
    pk.pack_array(r.recipients.empty() ? 9 : 10);
    pk.pack(static_cast<uint8_t>(r.kind));
    pk.pack(r.network_id);
    pack_str(pk, r.from);
    pack_str(pk, r.to);
    pk.pack(r.sent_ms);
    pack_str(pk, r.recipient);
    pack_messages(pk, r.messages);
    pk.pack_array(static_cast<uint32_t>(r.acks.size()));
    for (const auto& a : r.acks) {
        pk.pack_array(2);
        pack_str(pk, a.sender);
        pack_str(pk, a.id);
    }
    pk.pack(r.max);
    if (!r.recipients.empty()) {
        pk.pack_array(static_cast<uint32_t>(r.recipients.size()));
        for (const auto& recipient : r.recipients) pack_str(pk, recipient);
    }
    return {buf.data(), buf.size()};
}

std::string body_of(const InboxAnswer& a) {
    msgpack::sbuffer buf;
    MsgpackPacker pk(buf);
    pk.pack_array(6);
    pk.pack(a.network_id);
    pack_str(pk, a.from);
    pack_bin(pk, a.request_digest);
    pk.pack(static_cast<uint8_t>(a.code));
    pack_str(pk, a.message);
    pack_messages(pk, a.messages);
    return {buf.data(), buf.size()};
}

std::string encode(const InboxRequest& r) { return pack_signed(kInboxPeerFormat, body_of(r), r.signature); }
std::string encode(const InboxAnswer& a) { return pack_signed(kInboxPeerFormat, body_of(a), a.signature); }

Result<InboxRequest> decode_inbox_request(std::string_view bytes) {
    return decode_guarded<InboxRequest>("inbox request", [&] {
        auto o = open_inbox_message(bytes, "inbox request");
        const msgpack::object& body = o.body.get();
        const bool listed = body.type == msgpack::type::ARRAY && body.via.array.size == 10;
        Fields f(body, listed ? 10 : 9, "inbox request");
        InboxRequest r;
        const uint64_t kind = f.uint(UINT8_MAX);
        if (kind < static_cast<uint8_t>(InboxRequest::Kind::kHold) || kind > static_cast<uint8_t>(InboxRequest::Kind::kDeliver))
            f.fail("a request kind (1 hold, 2 fetch, 3 ack, 4 follow, 5 deliver)");
        r.kind = static_cast<InboxRequest::Kind>(kind);
        r.network_id = static_cast<uint32_t>(f.uint(UINT32_MAX));
        r.from = f.str(kMaxHolderIdChars);
        r.to = f.str(kMaxHolderIdChars);
        r.sent_ms = f.sint();
        if (r.sent_ms < 0) f.fail("a time since 1970");
        r.recipient = f.str(kMaxInboxIdBytes);
        // A hold may carry messages to several recipients, and a follow list
        // them, with none named here.
        const bool mixed = (r.kind == InboxRequest::Kind::kHold || r.kind == InboxRequest::Kind::kFollow) &&
                           r.recipient.empty();
        if (!mixed && !is_inbox_id(r.recipient)) f.fail("a user id");
        r.messages = read_messages(f);
        for (const auto& m : r.messages)
            if (!mixed && m.recipient != r.recipient) throw DecodeError{"inbox request: a message to another recipient"};
        for (const auto& a : f.array(kMaxInboxBatch)) {
            Fields ref(a, 2, "inbox request: an acknowledgement");
            MessageRef m{ref.str(kMaxInboxIdBytes), ref.str(kMaxInboxIdBytes)};
            if (!is_inbox_id(m.sender) || !is_inbox_id(m.id)) ref.fail("a user id and a message id");
            r.acks.push_back(std::move(m));
        }
        r.max = static_cast<uint32_t>(f.uint(kMaxInboxBatch));
        if (listed) r.recipients = f.str_list(kMaxInboxBatch, kMaxInboxIdBytes);
        for (const auto& recipient : r.recipients)
            if (!is_inbox_id(recipient)) f.fail("a list of user ids");
        if (!r.recipients.empty() && (r.kind != InboxRequest::Kind::kFollow || !r.recipient.empty()))
            f.fail("recipients listed only in a follow that names none");
        if (r.kind == InboxRequest::Kind::kFollow && r.recipient.empty() && r.recipients.empty())
            f.fail("a follow of at least one inbox");
        if ((r.kind == InboxRequest::Kind::kHold || r.kind == InboxRequest::Kind::kDeliver) && r.messages.empty())
            f.fail("a hold or delivery of at least one message");
        r.signature = std::move(o.signature);
        return r;
    });
}

Result<InboxAnswer> decode_inbox_answer(std::string_view bytes) {
    return decode_guarded<InboxAnswer>("inbox answer", [&] {
        auto o = open_inbox_message(bytes, "inbox answer");
        Fields f(o.body.get(), 6, "inbox answer");
        InboxAnswer a;
        a.network_id = static_cast<uint32_t>(f.uint(UINT32_MAX));
        a.from = f.str(kMaxHolderIdChars);
        a.request_digest = f.bin(32);
        a.code = static_cast<Code>(f.uint(static_cast<uint64_t>(Code::kInternal)));
        a.message = f.str(kMaxInboxReasonChars);
        a.messages = read_messages(f);
        a.signature = std::move(o.signature);
        return a;
    });
}

}  // namespace dhtalk
