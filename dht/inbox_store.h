#pragma once
// InboxStore: the messages (net/inbox_message.h) this node holds for
// recipients whose inbox it is a holder of (dht/placement.h,
// docs/messaging.md), in the node's Store. Holding the same message again (a
// retry) changes nothing, so a sender may retry freely; the recipient's
// acknowledgement deletes it; past its expiry it is dropped and handed back
// once, so that its sender can be told. The latest acknowledgements are
// remembered (in memory, kAcknowledgedMemory of them), so that a copy of a
// message that comes after its acknowledgement is not held again: the
// sender's second holder is often asked after the first has passed the
// message on and the recipient has acknowledged it, and a replayed hold
// is accepted for as long as its signature is fresh (docs/messaging.md).
//
// Bounds: a message's size, and per recipient and per sender-recipient pair
// the count and bytes held, so that one sender cannot fill another's inbox.
// Over a bound, hold() refuses the new message; nothing held is touched.
//
// hold() and acknowledge() are written at once but are durable against power
// loss only after sync(): a holder syncs before it says "held", and may
// sync once for several messages. Records on disk are input like any other:
// a damaged one is skipped and counted at load, never fatal. Thread-safe.

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/recent_set.h"
#include "common/status.h"
#include "net/inbox_message.h"
#include "storage/store.h"

namespace dhtalk {

struct InboxLimits {
    size_t max_message_bytes = kMaxMessageBytes;  // of the body
    size_t max_messages_per_recipient = 10000;
    uint64_t max_bytes_per_recipient = 64ull << 20;
    size_t max_messages_per_pair = 1000;  // from one sender to one recipient
    uint64_t max_bytes_per_pair = 8ull << 20;
};

class InboxStore {
public:
    static constexpr size_t kAcknowledgedMemory = 16384;  // up to about 7 MB of memory
    static constexpr const char* kPrefix = "ib/";         // ib/RECIPIENT/SENDER/ID -> the message
    static constexpr const char* kExpiryPrefix = "ie/";   // ie/EXPIRES/RECIPIENT/SENDER/ID -> ""

    // `store` must outlive the inbox store.
    InboxStore(Store& store, InboxLimits limits);

    struct LoadResult {
        size_t messages = 0;
        size_t skipped = 0;  // damaged records, left on disk untouched
    };
    // Counts what the store already holds (after a restart), for the bounds.
    Result<LoadResult> load();

    // kAlready: held before, or acknowledged lately (then not held again).
    enum class Held { kNew, kAlready };
    // kInvalidArgument for a malformed message, kResourceExhausted over a bound.
    Result<Held> hold(const InboxMessage& message);
    // Up to `max` of `recipient`'s messages, by sender, then id.
    Result<std::vector<InboxMessage>> pending(std::string_view recipient, size_t max) const;
    // Deletes the message, if held (acknowledging one again is not an error),
    // and remembers the acknowledgement.
    Status acknowledge(std::string_view recipient, std::string_view sender, std::string_view id);
    // Removes up to `max` messages whose expiry is at or before `now_ms`, and
    // returns them, earliest first.
    Result<std::vector<InboxMessage>> expire(int64_t now_ms, size_t max);
    Status sync() { return store_.sync(); }

    struct Usage {
        size_t messages = 0;
        uint64_t bytes = 0;
    };
    Usage usage_of(std::string_view recipient) const;
    Usage usage_of_pair(std::string_view sender, std::string_view recipient) const;
    Usage total() const;
    // The recipients with messages held here.
    std::vector<std::string> recipients() const;

private:
    // Removes a held message; the caller holds mutex_.
    Status remove_locked(const InboxMessage& m);
    void count_locked(const InboxMessage& m, int sign);

    Store& store_;
    const InboxLimits limits_;
    mutable std::mutex mutex_;
    std::map<std::string, Usage, std::less<>> per_recipient_;                   // guarded by mutex_
    std::map<std::pair<std::string, std::string>, Usage> per_pair_;            // guarded by mutex_: (sender, recipient)
    Usage total_;                                                                // guarded by mutex_
    RecentSet<std::string> acknowledged_{kAcknowledgedMemory};  // guarded by mutex_: message keys
};

}  // namespace dhtalk
