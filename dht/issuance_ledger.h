#pragma once
// IssuanceLedger: the issuance log entries (issuance_log.h) this node has
// stored for the network, kept in its store so that `dhtalk admin audit`
// can count, per issuing member and day, the certificates issued and the
// distinct users they were for. Every entry is stored by several nodes, so
// an audit unions the ledgers of all members (node/front/audit_service.h).
//
//   il/<day>/<issuer node id>/<user id>/<certificate value id, hex>  ""
//   il/<day>/<issuer node id>/~                                        ""
//
// <day> is the certificate's not-before day (days since 1970, 8 digits), so
// a scan walks the days in order. The second form marks an issuer's day
// that reached its cap (kMaxPerIssuerDay): entries beyond it are not kept, and the
// audit says "at least". Days older than kKeptDays are forgotten.
// Thread-safe: OpenDHT's store policy records, the node's loop forgets, and
// the audit reads.

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "storage/store.h"

namespace dhtalk {

struct IssuedCertificate;

struct IssuanceEntry {
    uint32_t day = 0;
    std::string issuer;   // node id, hex
    std::string user_id;  // empty for the mark of a capped day
    uint64_t certificate = 0;  // issuance_value_id()
    bool operator<(const IssuanceEntry& o) const {
        return std::tie(day, issuer, user_id, certificate) < std::tie(o.day, o.issuer, o.user_id, o.certificate);
    }
};

class IssuanceLedger {
public:
    static constexpr size_t kMaxPerIssuerDay = 100000;
    static constexpr uint32_t kKeptDays = 31;

    // `store` must outlive the ledger.
    explicit IssuanceLedger(Store& store, size_t max_per_issuer_day = kMaxPerIssuerDay)
        : store_(store), max_per_issuer_day_(max_per_issuer_day) {}

    // Counts what the store holds; call before the first record().
    Status load();
    // Keeps `issued` (once: the same certificate again changes nothing).
    Status record(const IssuedCertificate& issued);
    // The entries of `first_day` and later, at most `max` (then `truncated`).
    Result<std::vector<IssuanceEntry>> entries(uint32_t first_day, size_t max, bool* truncated = nullptr) const;
    // Erases the days before `day`; how many entries went.
    Result<size_t> forget_before(uint32_t day);

private:
    Store& store_;
    const size_t max_per_issuer_day_;
    mutable std::mutex mutex_;
    std::map<std::pair<uint32_t, std::string>, size_t> counts_;  // (day, issuer) -> entries kept; guarded
};

// Days since 1970 of a time in seconds since 1970.
inline uint32_t day_of(int64_t unix_seconds) { return unix_seconds < 0 ? 0 : static_cast<uint32_t>(unix_seconds / 86400); }

}  // namespace dhtalk
