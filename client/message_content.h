#pragma once
// MessageContent: what a message says, as only its sender and recipient see
// it: the plaintext inside the end-to-end envelope (end_to_end.h).
//   [format 2, kind, text, sent_ms, refs, attachment]
// Kinds: "text" (refs and attachment empty); "file", a file (attachment:
// its encoded descriptor, attachment.h) with text as its caption;
// "delivered" and "read", receipts for the messages whose ids are in refs
// (1 to 256, text empty). Format 1 (before files) is refused. The decoder
// treats its input as hostile (it comes from another user).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace dhtalk::client {

inline constexpr uint64_t kContentFormat = 2;
inline constexpr size_t kMaxAttachmentBytes = 4096;  // an encoded descriptor
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
};

std::string encode_content(const MessageContent& c);
// kCorruption for anything but one well-formed content of this format.
Result<MessageContent> decode_content(std::string_view bytes);

}  // namespace dhtalk::client
