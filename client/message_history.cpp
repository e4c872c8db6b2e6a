#include "client/message_history.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fstream>

#include <fcntl.h>
#include <unistd.h>

#include <json/json.h>

#include "client/message_content.h"
#include "common/files.h"
#include "common/json.h"
#include "crypto/signing.h"

namespace dhtalk::client {
namespace {

// A 60 KiB text of control bytes escapes to about 360 KB: every line the
// client writes fits.
constexpr size_t kMaxLineBytes = 1 << 20;

Json::Value to_json(const ChatMessage& m) {
    Json::Value j(Json::objectValue);
    j["dir"] = m.outgoing ? "out" : "in";
    j["peer"] = m.peer;
    j["id"] = m.id;
    j["sent_ms"] = Json::Int64(m.sent_ms);
    j["text"] = m.text;
    if (m.expires_ms) j["expires_ms"] = Json::Int64(m.expires_ms);
    if (!m.attachment.empty()) j["attachment"] = crypto::to_hex(m.attachment);
    return j;
}

bool from_json(const Json::Value& j, ChatMessage& m) {
    if (!j["peer"].isString() || !j["id"].isString() || !j["sent_ms"].isInt64() || !j["text"].isString()) return false;
    m.outgoing = j["dir"].asString() == "out";
    m.peer = j["peer"].asString();
    m.id = j["id"].asString();
    m.sent_ms = j["sent_ms"].asInt64();
    m.text = j["text"].asString();
    m.expires_ms = j["expires_ms"].isInt64() ? j["expires_ms"].asInt64() : 0;
    if (j["attachment"].isString()) {
        auto raw = crypto::from_hex(j["attachment"].asString());
        if (!raw || raw->size() > kMaxAttachmentBytes) return false;
        m.attachment = std::move(raw).value();
    }
    return true;
}

Json::Value ids_json(const std::vector<std::string>& ids) {
    Json::Value a(Json::arrayValue);
    for (const auto& id : ids) a.append(id);
    return a;
}

std::vector<std::string> ids_of(const Json::Value& a) {
    std::vector<std::string> ids;
    if (a.isArray())
        for (const auto& id : a)
            if (id.isString()) ids.push_back(id.asString());
    return ids;
}

bool state_of(const std::string& name, SentState& s) {
    for (SentState x : {SentState::kDelivered, SentState::kRead})
        if (name == sent_state_name(x)) {
            s = x;
            return true;
        }
    return false;
}

std::string key_of(const ChatMessage& m) { return m.peer + "/" + m.id; }

}  // namespace

const char* sent_state_name(SentState s) {
    switch (s) {
    case SentState::kStored: return "stored";
    case SentState::kDelivered: return "delivered";
    case SentState::kRead: return "read";
    case SentState::kExpired: return "expired";
    }
    return "unknown";
}

Result<MessageHistory> MessageHistory::open(const std::filesystem::path& file) {
    MessageHistory h(file);
    DHTALK_TRY(h.refresh());
    return h;
}

Status MessageHistory::refresh() {
    auto end = read_from(read_to_, [this](const Json::Value& line) { account(line); });
    if (!end) return end.status();
    read_to_ = *end;
    return Status::ok();
}

void MessageHistory::account(const Json::Value& j) {
    const std::string event = j["event"].asString();
    if (event.empty()) {
        ChatMessage m;
        if (!from_json(j, m)) return;
        if (m.outgoing) {
            sent_.insert(m.id);
            return;
        }
        if (!received_.insert({m.peer, m.id}).second) return;
        received_ids_[m.peer].push_back(m.id);
        unshown_.push_back(std::move(m));
        return;
    }
    SentState state{};
    if (event == "receipt") {
        received_.insert({j["peer"].asString(), j["id"].asString()});
    } else if (event == "receipt_sent" && state_of(j["state"].asString(), state)) {
        auto& covered = receipted_[static_cast<int>(state)][j["peer"].asString()];
        for (auto& id : ids_of(j["ids"])) covered.insert(std::move(id));
    } else if (event == "shown") {
        const auto keys = ids_of(j["keys"]);
        const std::set<std::string> shown(keys.begin(), keys.end());
        std::erase_if(unshown_, [&](const ChatMessage& m) { return shown.count(key_of(m)) > 0; });
    }
}

Status MessageHistory::read_all(const std::function<void(const Json::Value&)>& each) {
    return read_from(0, each).status();
}

Result<uint64_t> MessageHistory::read_from(uint64_t from, const std::function<void(const Json::Value&)>& each) {
    std::error_code ec;
    if (!std::filesystem::exists(file_, ec)) return uint64_t{0};
    std::ifstream in(file_, std::ios::binary | std::ios::ate);
    if (!in) return Status::io_error("cannot read " + file_.string());
    const auto size = static_cast<uint64_t>(in.tellg());
    if (size < from) return Status::corruption(file_.string() + " is shorter than when it was read");
    if (size - from > kMaxHistoryBytes)
        return Status::exhausted(file_.string() + " holds more than " + std::to_string(kMaxHistoryBytes) + " bytes");
    std::string text(size - from, '\0');
    in.seekg(static_cast<std::streamoff>(from));
    if (!in.read(text.data(), static_cast<std::streamsize>(text.size())))
        return Status::io_error("cannot read " + file_.string());
    if (!text.empty()) torn_ = text.back() != '\n';
    size_t start = 0;
    while (start < text.size()) {
        size_t end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();  // torn by a crash: read if whole, else skipped
        if (auto j = json::parse_object(std::string_view(text).substr(start, end - start), kMaxLineBytes)) each(*j);
        start = end + 1;
    }
    return size;
}

Status MessageHistory::append_lines(const std::string& body) {
    if (body.empty()) return Status::ok();
    const std::string lines = (torn_ ? "\n" : "") + body;
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
            torn_ = torn_ || done > 0;  // part of a line is in: the next append starts its own
            read_to_ += done;
            return Status::io_error("cannot write " + file_.string() + ": " + std::strerror(e));
        }
        done += static_cast<size_t>(n);
    }
    const bool synced = ::fsync(fd) == 0;
    ::close(fd);
    read_to_ += done;  // the lock keeps other writers out: nothing came in between
    if (!synced) return Status::io_error("cannot sync " + file_.string());
    torn_ = false;
    return Status::ok();
}

Status MessageHistory::append(const std::vector<ChatMessage>& messages) {
    std::string lines;
    for (const auto& m : messages) lines += json::to_compact(to_json(m)) + "\n";
    DHTALK_TRY(append_lines(lines));
    for (const auto& m : messages) account(to_json(m));
    return Status::ok();
}

Status MessageHistory::append_receipts(const std::vector<Receipt>& receipts) {
    std::string lines;
    std::vector<Json::Value> events;
    for (const auto& r : receipts) {
        Json::Value j(Json::objectValue);
        j["event"] = "receipt";
        j["peer"] = r.peer;
        j["id"] = r.id;
        j["state"] = sent_state_name(r.state);
        j["ids"] = ids_json(r.ids);
        lines += json::to_compact(j) + "\n";
        events.push_back(std::move(j));
    }
    DHTALK_TRY(append_lines(lines));
    for (const auto& j : events) account(j);
    return Status::ok();
}

Status MessageHistory::mark_shown(const std::vector<ChatMessage>& messages) {
    if (messages.empty()) return Status::ok();
    Json::Value j(Json::objectValue);
    j["event"] = "shown";
    std::vector<std::string> keys;
    for (const auto& m : messages) keys.push_back(key_of(m));
    j["keys"] = ids_json(keys);
    DHTALK_TRY(append_lines(json::to_compact(j) + "\n"));
    account(j);
    return Status::ok();
}

std::map<std::string, std::vector<std::string>> MessageHistory::owed(SentState state) const {
    std::map<std::string, std::vector<std::string>> out;
    const auto& covered = receipted_[static_cast<int>(state)];
    for (const auto& [peer, ids] : received_ids_) {
        auto c = covered.find(peer);
        for (const auto& id : ids)
            if (c == covered.end() || !c->second.count(id)) out[peer].push_back(id);
    }
    return out;
}

Status MessageHistory::paid(const std::string& peer, SentState state, const std::vector<std::string>& ids) {
    Json::Value j(Json::objectValue);
    j["event"] = "receipt_sent";
    j["peer"] = peer;
    j["state"] = sent_state_name(state);
    j["ids"] = ids_json(ids);
    DHTALK_TRY(append_lines(json::to_compact(j) + "\n"));
    account(j);
    return Status::ok();
}

Result<std::vector<ChatMessage>> MessageHistory::conversation(const std::string& peer) {
    std::vector<ChatMessage> out;
    DHTALK_TRY(read_all([&](const Json::Value& j) {
        ChatMessage m;
        if (j["event"].asString().empty() && from_json(j, m) && m.peer == peer) out.push_back(std::move(m));
    }));
    std::stable_sort(out.begin(), out.end(), [](const ChatMessage& a, const ChatMessage& b) { return a.sent_ms < b.sent_ms; });
    return out;
}

Result<std::vector<std::pair<ChatMessage, SentState>>> MessageHistory::sent(const std::string& peer, int64_t now_ms) {
    std::vector<std::pair<ChatMessage, SentState>> out;
    std::map<std::pair<std::string, std::string>, SentState> states;
    DHTALK_TRY(read_all([&](const Json::Value& j) {
        const std::string event = j["event"].asString();
        SentState state{};
        if (event.empty()) {
            ChatMessage m;
            if (from_json(j, m) && m.outgoing && (peer.empty() || m.peer == peer))
                out.emplace_back(std::move(m), SentState::kStored);
        } else if (event == "receipt" && state_of(j["state"].asString(), state)) {
            for (const auto& id : ids_of(j["ids"])) {
                auto& s = states[{j["peer"].asString(), id}];
                s = std::max(s, state);  // a late "delivered" never undoes "read"
            }
        }
    }));
    for (auto& [m, state] : out) {
        if (auto it = states.find({m.peer, m.id}); it != states.end()) state = it->second;
        else if (m.expires_ms && now_ms >= m.expires_ms) state = SentState::kExpired;  // dropped undelivered
    }
    std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first.sent_ms < b.first.sent_ms; });
    return out;
}

}  // namespace dhtalk::client
