#include "common/clock.h"

namespace dhtalk {

using namespace std::chrono;

ManualClock::ManualClock() : ManualClock(SteadyTime(hours(24)), WallTime(seconds(1'700'000'000))) {}

ManualClock::ManualClock(SteadyTime steady_start, WallTime wall_start)
    : steady_base_(steady_start), wall_base_(wall_start) {}

SteadyTime ManualClock::now() const { return steady_base_ + nanoseconds(offset_ns_.load()); }
WallTime ManualClock::wall_now() const {
    return wall_base_ + duration_cast<system_clock::duration>(nanoseconds(offset_ns_.load()));
}

int64_t to_unix_seconds(WallTime t) { return duration_cast<seconds>(t.time_since_epoch()).count(); }
int64_t to_unix_millis(WallTime t) { return duration_cast<milliseconds>(t.time_since_epoch()).count(); }
WallTime from_unix_millis(int64_t ms) {
    return WallTime(duration_cast<system_clock::duration>(milliseconds(ms)));
}

}  // namespace dhtalk
