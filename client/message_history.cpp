#include "client/message_history.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <unistd.h>

#include <json/json.h>

#include "common/files.h"
#include "common/json.h"

namespace dhtalk::client {
namespace {

constexpr size_t kMaxLineBytes = 256 * 1024;

Json::Value to_json(const ChatMessage& m) {
    Json::Value j(Json::objectValue);
    j["dir"] = m.outgoing ? "out" : "in";
    j["peer"] = m.peer;
    j["id"] = m.id;
    j["sent_ms"] = Json::Int64(m.sent_ms);
    j["text"] = m.text;
    return j;
}

bool from_json(const Json::Value& j, ChatMessage& m) {
    if (!j["peer"].isString() || !j["id"].isString() || !j["sent_ms"].isInt64() || !j["text"].isString()) return false;
    m.outgoing = j["dir"].asString() == "out";
    m.peer = j["peer"].asString();
    m.id = j["id"].asString();
    m.sent_ms = j["sent_ms"].asInt64();
    m.text = j["text"].asString();
    return true;
}

}  // namespace

Result<MessageHistory> MessageHistory::open(const std::filesystem::path& file) {
    MessageHistory h(file);
    auto all = h.read_all();
    if (!all) return all.status();
    for (const auto& m : *all)
        if (!m.outgoing) h.received_.insert({m.peer, m.id});
    return h;
}

Result<std::vector<ChatMessage>> MessageHistory::read_all() {
    std::vector<ChatMessage> out;
    std::error_code ec;
    if (!std::filesystem::exists(file_, ec)) return out;
    auto text = read_file(file_, kMaxHistoryBytes);
    if (!text) return text.status();
    torn_ = !text->empty() && text->back() != '\n';
    size_t start = 0;
    while (start < text->size()) {
        size_t end = text->find('\n', start);
        if (end == std::string::npos) end = text->size();  // torn by a crash: parsed if whole, else skipped
        auto j = json::parse_object(std::string_view(*text).substr(start, end - start), kMaxLineBytes);
        ChatMessage m;
        if (j && from_json(*j, m)) out.push_back(std::move(m));
        start = end + 1;
    }
    return out;
}

Status MessageHistory::append(const std::vector<ChatMessage>& messages) {
    if (messages.empty()) return Status::ok();
    std::string lines = torn_ ? "\n" : "";
    for (const auto& m : messages) lines += json::to_compact(to_json(m)) + "\n";
    DHTALK_TRY(ensure_private_dir(file_.parent_path()));
    const int fd = ::open(file_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return Status::io_error("cannot open " + file_.string() + ": " + std::strerror(errno));
    size_t done = 0;
    while (done < lines.size()) {
        const ssize_t n = ::write(fd, lines.data() + done, lines.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            const int e = errno;
            ::close(fd);
            return Status::io_error("cannot write " + file_.string() + ": " + std::strerror(e));
        }
        done += static_cast<size_t>(n);
    }
    const bool synced = ::fsync(fd) == 0;
    ::close(fd);
    if (!synced) return Status::io_error("cannot sync " + file_.string());
    torn_ = false;
    for (const auto& m : messages)
        if (!m.outgoing) received_.insert({m.peer, m.id});
    return Status::ok();
}

Result<std::vector<ChatMessage>> MessageHistory::conversation(const std::string& peer) {
    auto all = read_all();
    if (!all) return all.status();
    std::vector<ChatMessage> out;
    for (auto& m : *all)
        if (m.peer == peer) out.push_back(std::move(m));
    std::stable_sort(out.begin(), out.end(), [](const ChatMessage& a, const ChatMessage& b) { return a.sent_ms < b.sent_ms; });
    return out;
}

}  // namespace dhtalk::client
