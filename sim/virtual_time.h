#pragma once
// Virtual time for simulations. OpenDHT 2.4.12 takes `now` in periodic() but
// a few of its entry points (listen, shutdown, search refresh, the scheduler's
// constructor) read std::chrono::steady_clock themselves, with no way to
// inject a clock. So a program that links this file gets its own
// clock_gettime(): while virtual time is on, CLOCK_MONOTONIC (what
// steady_clock reads, in our code and inside libopendht) returns the virtual
// time; otherwise, and for every other clock, it returns the real time.
//
// Link it only into simulation and test programs, never into dhtalk-node.
// One virtual clock per process; setting it is thread-safe, but only one
// simulation may drive it at a time.

#include <chrono>

namespace dhtalk::virtual_time {

using TimePoint = std::chrono::steady_clock::time_point;

// Turns virtual time on, starting at `start`.
void enable(TimePoint start);
// Moves virtual time; never backwards.
void set(TimePoint now);
// Back to the real clock.
void disable();
bool enabled();

}  // namespace dhtalk::virtual_time
