#pragma once
// MessageHistory: what a profile sent and received, in PROFILE/messages.jsonl:
// an append-only log, one JSON object a line, of
//   messages     {"dir":"in"|"out","peer","id","sent_ms","text"[,"expires_ms"]}
//   receipts     {"event":"receipt","peer","id","state","ids"}: the peer's
//                client says it has ("delivered") or has shown ("read")
//                these messages this profile sent
//   receipts owed and paid {"event":"receipt_sent","peer","state","ids"}
//   shown        {"event":"shown","keys":["PEER/ID", ...]}
// Each line is synced before the network hears of it (a received message
// before it is acknowledged, so it is kept exactly once). A line torn by a
// crash is skipped. One thread at a time.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace Json {
class Value;
}

namespace dhtalk::client {

// The history read at once, at most.
inline constexpr size_t kMaxHistoryBytes = 256u << 20;

struct ChatMessage {
    bool outgoing = false;
    std::string peer;  // the other user's id
    std::string id;    // chosen by the sender's client
    int64_t sent_ms = 0;
    std::string text;
    int64_t expires_ms = 0;  // sent: when the holders drop it undelivered (0: unknown)
    std::string attachment;  // a file's encoded descriptor (attachment.h), with `text` its caption
};

// What a sent message became, as far as this profile knows: expired is a
// stored message past its expiry that no receipt covers.
enum class SentState { kStored = 0, kDelivered = 1, kRead = 2, kExpired = 3 };
const char* sent_state_name(SentState s);

// A receipt, as it travels: `state` of the messages `ids` the receiving
// peer got from this profile.
struct Receipt {
    std::string peer;
    std::string id;  // the receipt message's own id
    SentState state = SentState::kDelivered;
    std::vector<std::string> ids;
};

class MessageHistory {
public:
    static Result<MessageHistory> open(const std::filesystem::path& file);
    // Takes in what was appended since the last look (by another process
    // sharing the profile, under its lock). kCorruption if the file shrank:
    // then open it again.
    Status refresh();

    // Whether a message (or receipt) from `peer` with `id` was received before.
    bool received(const std::string& peer, const std::string& id) const { return received_.count({peer, id}) > 0; }
    // Whether the history has a message this user sent as `id` (from this
    // device, or copied from another; ids are random, 128 bits).
    bool has_sent(const std::string& id) const { return sent_.count(id) > 0; }
    Status append(const std::vector<ChatMessage>& messages);
    Status append_receipts(const std::vector<Receipt>& receipts);
    // Received messages not shown yet, oldest first, and marking them shown.
    const std::vector<ChatMessage>& unshown() const { return unshown_; }
    Status mark_shown(const std::vector<ChatMessage>& messages);
    // Receipts this profile owes: per peer, the ids received from it that no
    // receipt of `state` covers yet.
    std::map<std::string, std::vector<std::string>> owed(SentState state) const;
    Status paid(const std::string& peer, SentState state, const std::vector<std::string>& ids);

    // The conversation with `peer`, in the order the messages were sent.
    Result<std::vector<ChatMessage>> conversation(const std::string& peer);
    // What this profile sent (to `peer`, or to anyone), each with its state
    // at `now_ms`.
    Result<std::vector<std::pair<ChatMessage, SentState>>> sent(const std::string& peer, int64_t now_ms);

private:
    explicit MessageHistory(std::filesystem::path file) : file_(std::move(file)) {}
    Status append_lines(const std::string& lines);
    // Reads the whole log; `each` sees every whole line in order.
    Status read_all(const std::function<void(const Json::Value&)>& each);
    // The same from byte `from`; returns where the file ends.
    Result<uint64_t> read_from(uint64_t from, const std::function<void(const Json::Value&)>& each);
    void account(const Json::Value& line);

    std::filesystem::path file_;
    bool torn_ = false;  // the file ends without its newline: the next append starts a line
    uint64_t read_to_ = 0;  // bytes of the file accounted for
    std::set<std::pair<std::string, std::string>> received_;
    std::set<std::string> sent_;  // ids
    std::vector<ChatMessage> unshown_;
    // Received message ids per peer, and those a receipt of each state covers.
    std::map<std::string, std::vector<std::string>> received_ids_;
    std::map<std::string, std::set<std::string>> receipted_[3];
};

}  // namespace dhtalk::client
