#include "node/user_records.h"

#include <charconv>

namespace dhtalk {
namespace {

constexpr std::string_view kRecords = "ur/";
constexpr std::string_view kUsage = "uu/";

std::string record_store_key(const std::string& user_id, const dht::InfoHash& key) {
    return std::string(kRecords) + user_id + "/" + key.toString();
}
std::string usage_key(const std::string& user_id) { return std::string(kUsage) + user_id; }

std::string encode_usage(const RecordUsage& u) { return std::to_string(u.records) + " " + std::to_string(u.bytes); }

// A damaged line reads as empty: the quota then errs towards the user, and
// the next change writes a sound line again.
RecordUsage decode_usage(std::string_view text) {
    RecordUsage u;
    const auto space = text.find(' ');
    if (space == std::string_view::npos) return {};
    auto a = std::from_chars(text.data(), text.data() + space, u.records);
    auto b = std::from_chars(text.data() + space + 1, text.data() + text.size(), u.bytes);
    if (a.ec != std::errc() || b.ec != std::errc() || b.ptr != text.data() + text.size()) return {};
    return u;
}

}  // namespace

Status UserRecords::keep_certificate(const std::string& user_id, const std::string& pem) {
    return store_.put("uc/" + user_id, pem);
}

RecordUsage UserRecords::usage_locked(const std::string& user_id) const {
    auto line = store_.get(usage_key(user_id));
    return line ? decode_usage(*line) : RecordUsage{};
}

RecordUsage UserRecords::usage(const std::string& user_id) const {
    std::lock_guard lock(mutex_);
    return usage_locked(user_id);
}

Status UserRecords::keep_record(const std::string& user_id, const dht::InfoHash& key, std::string_view envelope) {
    std::lock_guard lock(mutex_);
    RecordUsage u = usage_locked(user_id);
    const std::string k = record_store_key(user_id, key);
    auto old = store_.get(k);
    if (!old && old.status().code() != Code::kNotFound) return old.status();
    if (old) {
        u.bytes -= std::min(u.bytes, old->size());
    } else {
        u.records++;
    }
    u.bytes += envelope.size();
    if (u.records > quota_.records)
        return Status::exhausted("you keep " + std::to_string(quota_.records) +
                                 " records on this node, its limit; remove one first");
    if (u.bytes > quota_.bytes)
        return Status::exhausted("your records on this node would take " + std::to_string(u.bytes) +
                                 " bytes, over its limit of " + std::to_string(quota_.bytes));
    WriteBatch batch;
    batch.put(k, std::string(envelope));
    batch.put(usage_key(user_id), encode_usage(u));
    return store_.write(batch);
}

Result<std::string> UserRecords::find_record(const std::string& user_id, const dht::InfoHash& key) const {
    return store_.get(record_store_key(user_id, key));
}

Status UserRecords::erase_record(const std::string& user_id, const dht::InfoHash& key) {
    std::lock_guard lock(mutex_);
    const std::string k = record_store_key(user_id, key);
    auto old = store_.get(k);
    if (!old) return old.status().code() == Code::kNotFound ? Status::ok() : old.status();
    RecordUsage u = usage_locked(user_id);
    u.records -= std::min<size_t>(u.records, 1);
    u.bytes -= std::min(u.bytes, old->size());
    WriteBatch batch;
    batch.erase(k);
    batch.put(usage_key(user_id), encode_usage(u));
    return store_.write(batch);
}

Status UserRecords::for_each_record(
    const std::function<void(const std::string& user_id, const dht::InfoHash&, const std::string&)>& visit) const {
    return store_.scan(kRecords, [&](std::string_view k, std::string_view v) {
        const auto rest = k.substr(kRecords.size());
        const auto slash = rest.find('/');
        if (slash != std::string_view::npos && rest.size() - slash - 1 == 40)
            visit(std::string(rest.substr(0, slash)), dht::InfoHash(std::string(rest.substr(slash + 1))),
                  std::string(v));
        return true;
    });
}

}  // namespace dhtalk
