#pragma once
// InboxMessage: a message as nodes carry and hold it (docs/messaging.md): the
// sender's end-to-end ciphertext with what a node needs to route and bound
// it. The same encoding is an inbox holder's record on disk, an item of the
// messages between members, and what a client is handed:
//   [format_version, recipient, sender, id, sent_ms, expires_ms, body]
// The decoder treats its input as hostile. Thread-safe, no state.

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace dhtalk {

inline constexpr uint64_t kInboxMessageFormat = 1;
// What a node carries of a message at most: its ciphertext.
inline constexpr size_t kMaxMessageBytes = 64 * 1024;
// User ids and message ids: 1 to 64 of [0-9A-Za-z_-], safe inside store keys.
inline constexpr size_t kMaxInboxIdBytes = 64;
// A message encoded, at most.
inline constexpr size_t kMaxEncodedMessageBytes = kMaxMessageBytes + 3 * kMaxInboxIdBytes + 64;

// Messages go to devices: each device of a user has its own inbox, named
// "USER-DEVICE" (the device id: crypto::UserCertificateInfo::device_id).
std::string inbox_address(std::string_view user_id, std::string_view device_id);
// The user and the device of an address; "" for a part it lacks.
std::string_view address_user(std::string_view address);
std::string_view address_device(std::string_view address);

struct InboxMessage {
    std::string recipient;   // inbox address of the device it is for
    std::string sender;      // inbox address of the device that sent it
    std::string id;          // chosen by the sender's client
    int64_t sent_ms = 0;     // the sender's wall clock, Unix milliseconds
    int64_t expires_ms = 0;  // wall clock, Unix milliseconds: dropped after
    std::string body;        // the end-to-end ciphertext, opaque to nodes

    bool operator==(const InboxMessage&) const = default;
};

// Whether `id` is 1 to kMaxInboxIdBytes of [0-9A-Za-z_-].
bool is_inbox_id(std::string_view id);
// Ids well formed, a body of 1 to `max_body_bytes`, an expiry after 1970
// and before the year 10,000; kInvalidArgument naming what is wrong.
Status check_inbox_message(const InboxMessage& m, size_t max_body_bytes = kMaxMessageBytes);

std::string encode(const InboxMessage& m);
// At least encode(m).size(), without encoding it: for filling a frame.
size_t encoded_size_bound(const InboxMessage& m);
// kInvalidArgument for anything but one well-formed message of this format.
Result<InboxMessage> decode_inbox_message(std::string_view bytes);

}  // namespace dhtalk
