#pragma once
// Clock: the one door to time for dhtalk's logic. SystemClock reads the
// machine's clocks; ManualClock is set by tests. Implementations are
// thread-safe. Code that must be testable takes a `Clock&` that outlives it.

#include <atomic>
#include <chrono>
#include <cstdint>

namespace dhtalk {

using SteadyTime = std::chrono::steady_clock::time_point;
using WallTime = std::chrono::system_clock::time_point;

class Clock {
public:
    virtual ~Clock() = default;
    // Monotonic time: for intervals and deadlines.
    virtual SteadyTime now() const = 0;
    // Wall-clock time: for anything written to disk or sent to peers.
    virtual WallTime wall_now() const = 0;
};

class SystemClock final : public Clock {
public:
    SteadyTime now() const override { return std::chrono::steady_clock::now(); }
    WallTime wall_now() const override { return std::chrono::system_clock::now(); }
};

// Starts at fixed points and moves only when told to.
class ManualClock final : public Clock {
public:
    ManualClock();
    ManualClock(SteadyTime steady_start, WallTime wall_start);
    SteadyTime now() const override;
    WallTime wall_now() const override;
    void advance(std::chrono::nanoseconds d) { offset_ns_ += d.count(); }

private:
    SteadyTime steady_base_;
    WallTime wall_base_;
    std::atomic<int64_t> offset_ns_{0};
};

// Whole seconds since the Unix epoch, as stored on disk and sent on the wire.
int64_t to_unix_seconds(WallTime t);
int64_t to_unix_millis(WallTime t);
WallTime from_unix_millis(int64_t ms);

}  // namespace dhtalk
