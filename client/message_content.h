#pragma once
// MessageContent: what a message says, as only its sender and recipient see
// it: the plaintext inside the end-to-end envelope (end_to_end.h).
//   [format 3, kind, text, sent_ms, refs, attachment, to]
// Kinds: "text" (refs and attachment empty); "file", a file (attachment:
// its encoded descriptor, attachment.h) with text as its caption;
// "delivered" and "read", receipts for the messages whose ids are in refs
// (1 to 256, text empty); "privacy", the user's privacy list (attachment:
// record_bodies.h's encoding) from one of the user's devices to the
// others. `to` is empty except in the copy of a text or
// file a user sent that goes to the user's other devices: there it names
// the user it was sent to. Formats 1 (before files) and 2 (before devices)
// are refused. The decoder treats its input as hostile (it comes from
// another user).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace dhtalk::client {

inline constexpr uint64_t kContentFormat = 3;
inline constexpr size_t kMaxAttachmentBytes = 4096;  // an encoded descriptor
// A privacy list of 500 entries in each of its two lists, encoded.
inline constexpr size_t kMaxPrivacyContentBytes = 48 * 1024;
// A message's text: what fits in a node's 64 KiB message with the
// envelope's and the protocol's framing.
inline constexpr size_t kMaxTextBytes = 60 * 1024;
// Message ids one receipt covers at most.
inline constexpr size_t kMaxReceiptRefs = 256;

struct MessageContent {
    std::string kind = "text";
    std::string text;
    int64_t sent_ms = 0;  // the sender's clock, Unix milliseconds
    std::vector<std::string> refs;  // a receipt's message ids
    std::string attachment;         // a file's encoded descriptor
    std::string to;                 // a copy for the sender's devices: the user it went to
};

// A new message id, as the sender's client chooses them: 128 random bits, hex.
std::string new_message_id();

std::string encode_content(const MessageContent& c);
// kCorruption for anything but one well-formed content of this format.
Result<MessageContent> decode_content(std::string_view bytes);

}  // namespace dhtalk::client
