#include "dht/inbox_store.h"

#include <cinttypes>
#include <cstdio>
#include <utility>

namespace dhtalk {
namespace {

std::string message_key(std::string_view recipient, std::string_view sender, std::string_view id) {
    std::string k = InboxStore::kPrefix;
    k.append(recipient).append("/").append(sender).append("/").append(id);
    return k;
}

// Fixed-width hex, so that key order is time order (check_inbox_message
// refuses expiries before 1970 and after the year 9999).
std::string expiry_key(const InboxMessage& m) {
    char stamp[17];
    std::snprintf(stamp, sizeof stamp, "%016" PRIx64, static_cast<uint64_t>(m.expires_ms));
    std::string k = InboxStore::kExpiryPrefix;
    k.append(stamp).append("/").append(m.recipient).append("/").append(m.sender).append("/").append(m.id);
    return k;
}

// The message's bytes as the bounds count them.
uint64_t size_of(const InboxMessage& m) { return m.body.size(); }

}  // namespace

InboxStore::InboxStore(Store& store, InboxLimits limits) : store_(store), limits_(limits) {}

void InboxStore::count_locked(const InboxMessage& m, int sign) {
    auto apply = [&](Usage& u) {
        if (sign > 0) {
            u.messages++;
            u.bytes += size_of(m);
        } else {
            u.messages--;
            u.bytes -= size_of(m);
        }
    };
    apply(total_);
    auto r = per_recipient_.find(m.recipient);
    if (r == per_recipient_.end()) r = per_recipient_.emplace(m.recipient, Usage{}).first;
    apply(r->second);
    if (r->second.messages == 0) per_recipient_.erase(r);
    auto p = per_pair_.find({m.sender, m.recipient});
    if (p == per_pair_.end()) p = per_pair_.emplace(std::make_pair(m.sender, m.recipient), Usage{}).first;
    apply(p->second);
    if (p->second.messages == 0) per_pair_.erase(p);
}

Result<InboxStore::LoadResult> InboxStore::load() {
    std::lock_guard lock(mutex_);
    per_recipient_.clear();
    per_pair_.clear();
    total_ = {};
    LoadResult result;
    std::vector<InboxMessage> held;
    DHTALK_TRY(store_.scan(kPrefix, [&](std::string_view key, std::string_view value) {
        auto m = decode_inbox_message(value);
        // A record filed under another message's key is damaged too.
        if (!m || key != message_key(m->recipient, m->sender, m->id) || !check_inbox_message(*m)) {
            result.skipped++;
            return true;
        }
        held.push_back(std::move(m).value());
        return true;
    }));
    for (const auto& m : held) count_locked(m, +1);
    result.messages = held.size();
    return result;
}

Result<InboxStore::Held> InboxStore::hold(const InboxMessage& m) {
    DHTALK_TRY(check_inbox_message(m, limits_.max_message_bytes));
    const std::string key = message_key(m.recipient, m.sender, m.id);
    std::lock_guard lock(mutex_);
    if (acknowledged_.contains(key)) return Held::kAlready;  // the recipient has it
    if (auto existing = store_.get(key); existing) return Held::kAlready;
    else if (existing.status().code() != Code::kNotFound) return existing.status();

    const uint64_t bytes = size_of(m);
    const Usage none;
    auto r = per_recipient_.find(m.recipient);
    const Usage& recipient = r == per_recipient_.end() ? none : r->second;
    auto p = per_pair_.find({m.sender, m.recipient});
    const Usage& pair = p == per_pair_.end() ? none : p->second;
    if (recipient.messages + 1 > limits_.max_messages_per_recipient ||
        recipient.bytes + bytes > limits_.max_bytes_per_recipient)
        return Status::exhausted("the recipient's inbox is full: try again when they have read it");
    if (pair.messages + 1 > limits_.max_messages_per_pair || pair.bytes + bytes > limits_.max_bytes_per_pair)
        return Status::exhausted("too many of your messages wait for this recipient: try again when they have read them");

    WriteBatch batch;
    batch.put(key, encode(m));
    batch.put(expiry_key(m), "");
    DHTALK_TRY(store_.write(batch));
    count_locked(m, +1);
    return Held::kNew;
}

Result<std::vector<InboxMessage>> InboxStore::pending(std::string_view recipient, size_t max) const {
    std::vector<InboxMessage> out;
    if (!is_inbox_id(recipient) || max == 0) return out;
    std::string prefix = kPrefix;
    prefix.append(recipient).append("/");
    DHTALK_TRY(store_.scan(prefix, [&](std::string_view key, std::string_view value) {
        auto m = decode_inbox_message(value);
        if (m && key == message_key(m->recipient, m->sender, m->id)) out.push_back(std::move(m).value());
        return out.size() < max;
    }));
    return out;
}

Status InboxStore::remove_locked(const InboxMessage& m) {
    WriteBatch batch;
    batch.erase(message_key(m.recipient, m.sender, m.id));
    batch.erase(expiry_key(m));
    DHTALK_TRY(store_.write(batch));
    count_locked(m, -1);
    return Status::ok();
}

Status InboxStore::acknowledge(std::string_view recipient, std::string_view sender, std::string_view id) {
    if (!is_inbox_id(recipient) || !is_inbox_id(sender) || !is_inbox_id(id))
        return Status::invalid("an acknowledgement names a malformed user or message id");
    const std::string key = message_key(recipient, sender, id);
    std::lock_guard lock(mutex_);
    acknowledged_.insert(key);
    auto bytes = store_.get(key);
    if (!bytes) return bytes.status().code() == Code::kNotFound ? Status::ok() : bytes.status();
    auto m = decode_inbox_message(*bytes);
    if (!m) return Status::corruption("the held message is damaged: " + m.status().message());
    return remove_locked(*m);
}

Result<std::vector<InboxMessage>> InboxStore::expire(int64_t now_ms, size_t max) {
    std::lock_guard lock(mutex_);
    std::vector<std::pair<std::string, std::string>> due;  // index key, message key
    DHTALK_TRY(store_.scan(kExpiryPrefix, [&](std::string_view key, std::string_view) {
        const std::string_view rest = key.substr(std::string_view(kExpiryPrefix).size());
        const auto slash = rest.find('/');
        uint64_t expires = 0;
        if (slash != 16 || std::sscanf(std::string(rest.substr(0, 16)).c_str(), "%16" SCNx64, &expires) != 1)
            return true;  // not an entry this code writes: left alone
        if (static_cast<int64_t>(expires) > now_ms) return false;  // key order is time order
        due.emplace_back(std::string(key), std::string(kPrefix) + std::string(rest.substr(slash + 1)));
        return due.size() < max;
    }));
    std::vector<InboxMessage> expired;
    for (const auto& [index_key, key] : due) {
        auto bytes = store_.get(key);
        auto m = bytes ? decode_inbox_message(*bytes) : Result<InboxMessage>(bytes.status());
        if (m && key == message_key(m->recipient, m->sender, m->id)) {
            DHTALK_TRY(remove_locked(*m));
            expired.push_back(std::move(m).value());
            continue;
        }
        // Missing or damaged (and so never counted): past its time all the same.
        WriteBatch batch;
        batch.erase(index_key);
        batch.erase(key);
        DHTALK_TRY(store_.write(batch));
    }
    return expired;
}

InboxStore::Usage InboxStore::usage_of(std::string_view recipient) const {
    std::lock_guard lock(mutex_);
    auto it = per_recipient_.find(recipient);
    return it == per_recipient_.end() ? Usage{} : it->second;
}

InboxStore::Usage InboxStore::usage_of_pair(std::string_view sender, std::string_view recipient) const {
    std::lock_guard lock(mutex_);
    auto it = per_pair_.find({std::string(sender), std::string(recipient)});
    return it == per_pair_.end() ? Usage{} : it->second;
}

std::vector<std::string> InboxStore::recipients() const {
    std::lock_guard lock(mutex_);
    std::vector<std::string> out;
    for (const auto& [recipient, usage] : per_recipient_)
        if (usage.messages > 0) out.push_back(recipient);
    return out;
}

InboxStore::Usage InboxStore::total() const {
    std::lock_guard lock(mutex_);
    return total_;
}

}  // namespace dhtalk
