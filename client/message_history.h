#pragma once
// MessageHistory: the messages a profile sent and received, in
// PROFILE/messages.jsonl, one JSON object per line, appended and synced
// before a received message is acknowledged to the network (so that it is
// shown exactly once, even when a holder hands it out again). A line torn by
// a crash is skipped. One thread at a time.

#include <cstdint>
#include <filesystem>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace dhtalk::client {

// The history read at once, at most.
inline constexpr size_t kMaxHistoryBytes = 256u << 20;

struct ChatMessage {
    bool outgoing = false;
    std::string peer;  // the other user's id
    std::string id;    // chosen by the sender's client
    int64_t sent_ms = 0;
    std::string text;
};

class MessageHistory {
public:
    static Result<MessageHistory> open(const std::filesystem::path& file);

    // Whether a message from `peer` with `id` was received before.
    bool received(const std::string& peer, const std::string& id) const { return received_.count({peer, id}) > 0; }
    Status append(const std::vector<ChatMessage>& messages);
    // The conversation with `peer`, in the order the messages were sent.
    Result<std::vector<ChatMessage>> conversation(const std::string& peer);

private:
    explicit MessageHistory(std::filesystem::path file) : file_(std::move(file)) {}
    Result<std::vector<ChatMessage>> read_all();

    std::filesystem::path file_;
    std::set<std::pair<std::string, std::string>> received_;
    bool torn_ = false;  // the file ends without its newline: the next append starts a line
};

}  // namespace dhtalk::client
