#include "net/replay_window.h"

namespace dhtalk {

bool ReplayWindow::accept(uint64_t seq) {
    if (!any_ || seq > highest_) {
        const uint64_t shift = any_ ? seq - highest_ : kSize;
        if (shift >= kSize) {
            seen_.reset();
        } else {
            // Clear the bits of the numbers that slide out of the window.
            for (uint64_t s = highest_ + 1; s <= seq; ++s) seen_.reset(s % kSize);
        }
        highest_ = seq;
        any_ = true;
        seen_.set(seq % kSize);
        return true;
    }
    if (highest_ - seq >= kSize) return false;  // too old to tell
    if (seen_.test(seq % kSize)) return false;
    seen_.set(seq % kSize);
    return true;
}

}  // namespace dhtalk
