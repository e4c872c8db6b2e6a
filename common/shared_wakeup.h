#pragma once
// SharedWakeup: when a drive must next take a turn, for a loop that two
// threads run: the drive (its timers and queued work) and a thread with
// events of its own (the DHT socket's receive thread). Each run of the loop
// answers when it next wants to run. The drive sleeps until its last answer;
// a run on the other thread that wants an earlier time must wake it, and a
// run that lands between the drive's loop and its sleep must not be lost:
// the drive's answer takes the earliest time seen since its turn began.
//
// Thread-safe. Usage, on the drive:      begin_turn(); next = loop();
//                                        return end_turn(next);
// on the other thread:                   if (after_other_run(loop())) wake;

#include <algorithm>
#include <mutex>

#include "common/clock.h"

namespace dhtalk {

class SharedWakeup {
public:
    void begin_turn() {
        std::lock_guard lock(mutex_);
        seen_in_turn_ = SteadyTime::max();
    }
    // The time the drive sleeps until.
    SteadyTime end_turn(SteadyTime loop_next) {
        std::lock_guard lock(mutex_);
        drive_next_ = std::min(loop_next, seen_in_turn_);
        return drive_next_;
    }
    // True when the drive must be woken: it sleeps past `loop_next`.
    bool after_other_run(SteadyTime loop_next) {
        std::lock_guard lock(mutex_);
        seen_in_turn_ = std::min(seen_in_turn_, loop_next);
        return loop_next < drive_next_;
    }

private:
    std::mutex mutex_;
    // Before the drive's first turn (which comes soon anyway): no wake.
    SteadyTime drive_next_ = SteadyTime::min();    // guarded by mutex_
    SteadyTime seen_in_turn_ = SteadyTime::max();  // guarded by mutex_
};

}  // namespace dhtalk
