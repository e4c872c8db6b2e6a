#include "sim/virtual_time.h"

#include <dlfcn.h>
#include <time.h>

#include <atomic>
#include <cassert>
#include <cstdlib>

#include "sim/sim_entropy.h"

namespace dhtalk::virtual_time {
namespace {

std::atomic<bool> g_enabled{false};
std::atomic<int64_t> g_now_ns{0};
std::atomic<int64_t> g_start_ns{0};
// The wall clock a simulation's nodes read (sim_nodes.h) starts here.
constexpr time_t kWallStart = 1'767'225'600;  // 2026-01-01

using ClockGettime = int (*)(clockid_t, struct timespec*);

ClockGettime real_clock_gettime() {
    static const ClockGettime real = [] {
        auto fn = reinterpret_cast<ClockGettime>(dlsym(RTLD_NEXT, "clock_gettime"));
        if (!fn) std::abort();  // no libc clock: nothing sensible left to do
        return fn;
    }();
    return real;
}

}  // namespace

void enable(TimePoint start) {
    g_now_ns = start.time_since_epoch().count();
    g_start_ns = g_now_ns.load();
    g_enabled = true;
}

void set(TimePoint now) {
    const int64_t ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
    assert(ns >= g_now_ns.load());
    g_now_ns = ns;
}

void disable() { g_enabled = false; }
bool enabled() { return g_enabled; }

}  // namespace dhtalk::virtual_time

// Interposes libc's clock_gettime for the whole program (see the header).
extern "C" int clock_gettime(clockid_t clock, struct timespec* ts) noexcept {
    using namespace dhtalk::virtual_time;
    if (clock == CLOCK_MONOTONIC && g_enabled.load(std::memory_order_relaxed)) {
        const int64_t ns = g_now_ns.load(std::memory_order_relaxed);
        ts->tv_sec = ns / 1'000'000'000;
        ts->tv_nsec = ns % 1'000'000'000;
        return 0;
    }
    if (clock == CLOCK_REALTIME && dhtalk::sim_entropy::take_keying_clock_read()) {
        ts->tv_sec = dhtalk::virtual_time::kWallStart;
        ts->tv_nsec = 0;
        return 0;
    }
    return real_clock_gettime()(clock, ts);
}

// Interposes libc's time(): while virtual time is on, the simulated wall
// clock, so that certificates made during a run (OpenDHT dates them with
// time()) carry the same dates in every replay.
extern "C" time_t time(time_t* out) noexcept {
    using namespace dhtalk::virtual_time;
    time_t t;
    if (g_enabled.load(std::memory_order_relaxed)) {
        t = kWallStart + static_cast<time_t>((g_now_ns.load(std::memory_order_relaxed) - g_start_ns.load()) / 1'000'000'000);
    } else {
        struct timespec ts;
        real_clock_gettime()(CLOCK_REALTIME, &ts);
        t = ts.tv_sec;
    }
    if (out) *out = t;
    return t;
}
