#include "sim/sim_entropy.h"

#include <dlfcn.h>
#include <sys/random.h>

#include <atomic>
#include <cstdlib>
#include <random>

namespace dhtalk::sim_entropy {
namespace {

std::atomic<bool> g_seeded{false};
std::atomic<uint64_t> g_seed{0};
std::atomic<uint64_t> g_counter{0};
std::atomic<uint64_t> g_bytes_counter{0};
// GnuTLS keys a thread's generators with 64 bytes from getrandom() and two
// reads of CLOCK_REALTIME as their nonces (measured with gdb on 3.7.9);
// later reseeds keep that state. While seeded, those two reads are answered
// with a fixed time, or the process's start time would leak into every key.
thread_local int t_keying_clock_reads = 0;
constexpr size_t kGnutlsKeyingBytes = 64;

uint64_t mix(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

using GetVal = unsigned int (*)(std::random_device*);

GetVal real_getval() {
    static const GetVal real = [] {
        auto fn = reinterpret_cast<GetVal>(dlsym(RTLD_NEXT, "_ZNSt13random_device9_M_getvalEv"));
        if (!fn) std::abort();  // not libstdc++: nothing sensible left to do
        return fn;
    }();
    return real;
}

}  // namespace

void seed(uint64_t s) {
    g_seed = s;
    g_counter = 0;
    g_bytes_counter = 0;
    g_seeded = true;
}

void unseed() { g_seeded = false; }

bool take_keying_clock_read() {
    if (t_keying_clock_reads == 0) return false;
    --t_keying_clock_reads;
    return true;
}

unsigned int next_or_real(std::random_device* device) {
    if (!g_seeded.load(std::memory_order_relaxed)) return real_getval()(device);
    const uint64_t n = g_counter.fetch_add(1, std::memory_order_relaxed);
    return static_cast<unsigned int>(mix(g_seed.load(std::memory_order_relaxed) + 0x9e3779b97f4a7c15ULL * (n + 1)));
}

ssize_t fill_or_real(void* buffer, size_t length, unsigned int flags) {
    if (!g_seeded.load(std::memory_order_relaxed)) {
        using GetRandom = ssize_t (*)(void*, size_t, unsigned int);
        static const GetRandom real = [] {
            auto fn = reinterpret_cast<GetRandom>(dlsym(RTLD_NEXT, "getrandom"));
            if (!fn) std::abort();
            return fn;
        }();
        return real(buffer, length, flags);
    }
    if (length == kGnutlsKeyingBytes && flags == 0) t_keying_clock_reads = 2;
    auto* out = static_cast<unsigned char*>(buffer);
    for (size_t i = 0; i < length; i += 8) {
        const uint64_t n = g_bytes_counter.fetch_add(1, std::memory_order_relaxed);
        const uint64_t v = mix(~g_seed.load(std::memory_order_relaxed) + 0x9e3779b97f4a7c15ULL * (n + 1));
        for (size_t j = 0; j < 8 && i + j < length; ++j) out[i + j] = static_cast<unsigned char>(v >> (8 * j));
    }
    return static_cast<ssize_t>(length);
}

}  // namespace dhtalk::sim_entropy

// GnuTLS seeds its generators from getrandom(): while seeded, they draw
// from the seed too (after gnutls_rnd_refresh(), which SimNodes calls).
extern "C" ssize_t getrandom(void* buffer, size_t length, unsigned int flags) {
    return dhtalk::sim_entropy::fill_or_real(buffer, length, flags);
}

// Interposes libstdc++'s entropy source for the whole program (see the header).
std::random_device::result_type std::random_device::_M_getval() {
    return dhtalk::sim_entropy::next_or_real(this);
}
