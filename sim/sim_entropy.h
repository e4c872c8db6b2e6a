#pragma once
// Seeded entropy for simulations. OpenDHT 2.4.12 seeds its random engines
// from std::random_device with no way to inject one, which has two costs in a
// swarm: runs cannot replay exactly, and each new node spends milliseconds
// in the CPU's RDSEED retry loop (90% of swarm start-up time, measured with
// perf). A program that links this file gets its own
// std::random_device::_M_getval(): while seeded, every random_device in the
// process (OpenDHT's included) draws from a counter-based stream of the seed;
// otherwise it calls libstdc++'s own. It gets its own getrandom() too, which
// GnuTLS seeds its generators from: while seeded, a reseed
// (gnutls_rnd_refresh()) draws from a second stream of the seed, so keys,
// nonces and padding replay as well.
//
// Link only into simulation and test programs, like virtual_time.h.
// Thread-safe.

#include <cstdint>

namespace dhtalk::sim_entropy {

void seed(uint64_t seed);
// Back to the hardware source.
void unseed();
// Whether this read of CLOCK_REALTIME is one of the two GnuTLS takes when it
// keys a thread's generators from the seed (virtual_time.cpp answers it with
// a fixed time, so that the keys replay in any process, not only in forked
// children of one).
bool take_keying_clock_read();

}  // namespace dhtalk::sim_entropy
