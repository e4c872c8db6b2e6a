#include "node/front/user_records.h"

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

std::optional<RecordUsage> decode_usage(std::string_view text) {
    RecordUsage u;
    const auto space = text.find(' ');
    if (space == std::string_view::npos) return std::nullopt;
    auto a = std::from_chars(text.data(), text.data() + space, u.records);
    auto b = std::from_chars(text.data() + space + 1, text.data() + text.size(), u.bytes);
    if (a.ec != std::errc() || a.ptr != text.data() + space || b.ec != std::errc() ||
        b.ptr != text.data() + text.size())
        return std::nullopt;
    return u;
}

bool is_hex_key(std::string_view s) {
    return s.size() == 40 && s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

}  // namespace

Status UserRecords::keep_certificate(const std::string& user_id, const std::string& pem) {
    return store_.put("uc/" + user_id, pem);
}

Status UserRecords::for_each_certificate(
    const std::function<void(const std::string& user_id, const std::string& pem)>& visit) const {
    return store_.scan("uc/", [&](std::string_view k, std::string_view v) {
        visit(std::string(k.substr(3)), std::string(v));
        return true;
    });
}

RecordUsage UserRecords::recount(const std::string& user_id) const {
    RecordUsage u;
    for_each_record_of(user_id, [&](const dht::InfoHash&, const std::string& envelope) {
        u.records++;
        u.bytes += envelope.size();
    }).ignore_error();
    return u;
}

RecordUsage UserRecords::usage_locked(const std::string& user_id) const {
    auto line = store_.get(usage_key(user_id));
    if (!line) return RecordUsage{};  // a user with no records yet
    if (auto u = decode_usage(*line)) return *u;
    return recount(user_id);  // damaged: the records themselves say
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
    // Only growth is refused: a user over a lowered quota may still shrink.
    if (!old && u.records > quota_.records)
        return Status::exhausted("you keep " + std::to_string(quota_.records) +
                                 " records on this node, its limit: they count until they expire");
    if (u.bytes > quota_.bytes && (!old || envelope.size() > old->size()))
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

Status UserRecords::for_each_record_of(
    const std::string& user_id, const std::function<void(const dht::InfoHash&, const std::string&)>& visit) const {
    const std::string prefix = std::string(kRecords) + user_id + "/";
    return store_.scan(prefix, [&](std::string_view k, std::string_view v) {
        const auto hex = k.substr(prefix.size());
        if (is_hex_key(hex)) visit(dht::InfoHash(std::string(hex)), std::string(v));
        return true;
    });
}

size_t UserRecords::migrate_legacy(
    const std::function<std::optional<std::string>(const std::string& envelope)>& user_of) {
    std::vector<std::pair<std::string, std::string>> legacy;  // store key, envelope
    store_
        .scan(kRecords,
              [&](std::string_view k, std::string_view v) {
                  if (is_hex_key(k.substr(kRecords.size()))) legacy.emplace_back(k, v);
                  return true;
              })
        .ignore_error();
    size_t moved = 0;
    for (const auto& [k, envelope] : legacy) {
        if (auto user = user_of(envelope))
            moved += keep_record(*user, dht::InfoHash(k.substr(kRecords.size())), envelope).is_ok();
        store_.erase(k).ignore_error();  // moved, or no longer a record anyone could use
    }
    return moved;
}

Status UserRecords::for_each_record(
    const std::function<void(const std::string& user_id, const dht::InfoHash&, const std::string&)>& visit) const {
    return store_.scan(kRecords, [&](std::string_view k, std::string_view v) {
        const auto rest = k.substr(kRecords.size());
        const auto slash = rest.find('/');
        if (slash != std::string_view::npos && is_hex_key(rest.substr(slash + 1)))
            visit(std::string(rest.substr(0, slash)), dht::InfoHash(std::string(rest.substr(slash + 1))),
                  std::string(v));
        return true;
    });
}

}  // namespace dhtalk
