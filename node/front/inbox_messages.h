#pragma once
// The messages between members about inboxes (inbox_service.h,
// docs/messaging.md). Both are msgpack `[format_version, body, signature]`,
// signed by their author with its fast key (Ed25519, the roster's), so the
// peer service's plain HTTP needs no authentication of its own:
//
//   request  [kind, network_id, from, to, sent_ms, recipient, messages, acks, max
//            (, recipients)]  the last only in a follow of several inboxes
//     hold   messages: one or more encoded messages (net/inbox_message.h), all
//            to `recipient`, or to several when `recipient` is empty, for `to`
//            to hold on disk; the answer's messages are those it refused
//     fetch  up to `max` of the messages `to` holds for `recipient`
//     ack    acks: [[sender, id], ...] that `recipient`'s client has: delete them
//     follow `recipient` has a session at `from` that wants messages pushed:
//            for a lease, pass on what comes for them (deliver); or, with
//            `recipient` empty, each of `recipients` (up to kMaxInboxBatch)
//     deliver messages: new messages for `recipient`, whose session `to` hosts
//   answer   [network_id, from, request_digest, code, message, messages]
//            code and message: the holder's answer as a Status (a hold is ok
//            once every message is on its disk); messages: what a fetch found,
//            or the messages of a hold that it refused (over a bound), the
//            others being on its disk
//
// The decoders bound every field and check no signature: the holder checks
// the request's against `from`'s fast key, and the asking member the
// answer's against `to`'s, and that it answers its own request
// (request_digest, the SHA-256 of the request as sent). Message bodies are
// end-to-end ciphertext; what travels in the clear is what a holder sees.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "net/inbox_message.h"

namespace dhtalk {

inline constexpr uint64_t kInboxPeerFormat = 1;
// What one request or answer holds at most (the peer service reads no more).
inline constexpr size_t kMaxInboxPeerBytes = 1 << 20;
inline constexpr size_t kMaxInboxBatch = 256;  // messages or acks in one request or answer
// What a sender puts in one hold request, with room left for the framing.
inline constexpr size_t kMaxHoldRequestBytes = kMaxInboxPeerBytes - 16 * 1024;

struct MessageRef {
    std::string sender;
    std::string id;
    bool operator==(const MessageRef&) const = default;
};

struct InboxRequest {
    enum class Kind : uint8_t { kHold = 1, kFetch = 2, kAck = 3, kFollow = 4, kDeliver = 5 };
    Kind kind = Kind::kHold;
    uint32_t network_id = 0;
    std::string from;       // node id of the asking member
    std::string to;         // node id of the holder
    int64_t sent_ms = 0;    // the holder refuses requests far from its clock
    std::string recipient;  // whose inbox
    std::vector<InboxMessage> messages;  // hold, deliver
    std::vector<MessageRef> acks;        // ack
    uint32_t max = 0;                    // fetch
    std::vector<std::string> recipients;  // follow of several inboxes: then `recipient` is empty
    std::string signature;               // by `from`
};

struct InboxAnswer {
    uint32_t network_id = 0;
    std::string from;            // node id of the holder
    std::string request_digest;  // SHA-256 of the request it answers
    Code code = Code::kOk;
    std::string message;                 // why, when not ok
    std::vector<InboxMessage> messages;  // fetch
    std::string signature;               // by `from`

    Status status() const { return code == Code::kOk ? Status::ok() : Status(code, message); }
};

// The bytes that are signed.
std::string body_of(const InboxRequest& r);
std::string body_of(const InboxAnswer& a);
// The whole message, body and signature.
std::string encode(const InboxRequest& r);
std::string encode(const InboxAnswer& a);
// kInvalidArgument for anything but one well-formed message of this format;
// every message inside is well formed (check_inbox_message) and, in a
// request, to its recipient.
Result<InboxRequest> decode_inbox_request(std::string_view bytes);
Result<InboxAnswer> decode_inbox_answer(std::string_view bytes);

}  // namespace dhtalk
