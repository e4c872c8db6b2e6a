#pragma once
// RepairPacer: when a service that holds copies (inbox, media) repairs its
// placement. The live members are summed up as one text; a repair starts
// once that text has stayed the same from one look to the next after a
// change (a node restarting is back within a look or two), one at a time,
// and not again for a live set a complete repair already covered.
// Thread-safe.

#include <algorithm>
#include <cstddef>
#include <mutex>
#include <string>
#include <vector>

namespace dhtalk {

class RepairPacer {
public:
    // The live set as one text, from each live member's name (any order).
    static std::string live_set(std::vector<std::string> names) {
        std::sort(names.begin(), names.end());
        std::string out;
        for (const auto& n : names) out += n + ",";
        return out;
    }
    // Whether a repair for `live` should start now; if so it counts as
    // running until finished() or abandoned().
    bool start(const std::string& live) {
        std::lock_guard lock(mutex_);
        if (live != seen_live_) {
            seen_live_ = live;
            return false;
        }
        if (live == repaired_live_ || repairing_) return false;
        repairing_ = true;
        return true;
    }
    void finished(const std::string& live, bool complete, size_t copies) {
        std::lock_guard lock(mutex_);
        repaired_live_ = complete ? live : std::string();
        repairing_ = false;
        copies_ += copies;
    }
    // The repair could not be queued: the next look tries again.
    void abandoned() {
        std::lock_guard lock(mutex_);
        repairing_ = false;
    }
    size_t copies() const {
        std::lock_guard lock(mutex_);
        return copies_;
    }

private:
    mutable std::mutex mutex_;
    std::string seen_live_;      // guarded: the live set at the last look
    std::string repaired_live_;  // guarded: the one the last complete repair was for
    bool repairing_ = false;     // guarded: a repair is queued or running
    size_t copies_ = 0;          // guarded: copies the repairs handed over
};

}  // namespace dhtalk
