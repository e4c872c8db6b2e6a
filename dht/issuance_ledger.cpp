#include "dht/issuance_ledger.h"

#include <charconv>
#include <cstdio>

#include "dht/issuance_log.h"

namespace dhtalk {
namespace {

constexpr std::string_view kPrefix = "il/";
constexpr std::string_view kCappedMark = "~";

std::string day_text(uint32_t day) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%08u", day);
    return buf;
}

std::string hex64(uint64_t v) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
    return buf;
}

// Splits "il/<day>/<issuer>/<user>/<cert>" (or ".../~"); false for a key
// not of this shape (skipped: a damaged key is never fatal).
bool parse_key(std::string_view key, IssuanceEntry& e) {
    if (key.substr(0, kPrefix.size()) != kPrefix) return false;
    key.remove_prefix(kPrefix.size());
    std::vector<std::string_view> parts;
    for (size_t at = 0; parts.size() < 5;) {
        const size_t slash = key.find('/', at);
        parts.push_back(key.substr(at, slash == std::string_view::npos ? std::string_view::npos : slash - at));
        if (slash == std::string_view::npos) break;
        at = slash + 1;
    }
    if (parts.size() < 3 || parts[0].size() != 8) return false;
    if (std::from_chars(parts[0].data(), parts[0].data() + 8, e.day).ec != std::errc()) return false;
    e.issuer = std::string(parts[1]);
    if (parts.size() == 3) return parts[2] == kCappedMark;
    if (parts.size() != 4 || parts[3].size() != 16) return false;
    e.user_id = std::string(parts[2]);
    return std::from_chars(parts[3].data(), parts[3].data() + 16, e.certificate, 16).ec == std::errc();
}

}  // namespace

Status IssuanceLedger::load() {
    std::lock_guard lock(mutex_);
    counts_.clear();
    return store_.scan(kPrefix, [&](std::string_view key, std::string_view) {
        IssuanceEntry e;
        if (parse_key(key, e) && !e.user_id.empty()) counts_[{e.day, e.issuer}]++;
        return true;
    });
}

Status IssuanceLedger::record(const IssuedCertificate& issued) {
    const uint32_t day = day_of(issued.info.not_before_s);
    const std::string head = std::string(kPrefix) + day_text(day) + "/" + issued.info.issuer_node_id + "/";
    const std::string key = head + issued.info.user_id + "/" + hex64(issued.id);
    std::lock_guard lock(mutex_);
    if (store_.get(key)) return Status::ok();  // announced again
    size_t& kept = counts_[{day, issued.info.issuer_node_id}];
    if (kept >= max_per_issuer_day_) return store_.put(head + std::string(kCappedMark), "");
    DHTALK_TRY(store_.put(key, ""));
    ++kept;
    return Status::ok();
}

Result<std::vector<IssuanceEntry>> IssuanceLedger::entries(uint32_t first_day, size_t max, bool* truncated) const {
    std::vector<IssuanceEntry> out;
    if (truncated) *truncated = false;
    DHTALK_TRY(store_.scan(kPrefix, [&](std::string_view key, std::string_view) {
        IssuanceEntry e;
        if (!parse_key(key, e) || e.day < first_day) return true;
        if (out.size() == max) {
            if (truncated) *truncated = true;
            return false;
        }
        out.push_back(std::move(e));
        return true;
    }));
    return out;
}

Result<size_t> IssuanceLedger::forget_before(uint32_t day) {
    WriteBatch batch;
    DHTALK_TRY(store_.scan(kPrefix, [&](std::string_view key, std::string_view) {
        IssuanceEntry e;
        if (parse_key(key, e) && e.day >= day) return false;  // days in order: the rest are newer
        batch.erase(std::string(key));                          // old, or damaged
        return true;
    }));
    if (batch.empty()) return size_t{0};
    DHTALK_TRY(store_.write(batch));
    std::lock_guard lock(mutex_);
    for (auto it = counts_.begin(); it != counts_.end() && it->first.first < day;) it = counts_.erase(it);
    return batch.size();
}

}  // namespace dhtalk
