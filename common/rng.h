#pragma once
// Rng: a seeded, portable pseudo-random source (xoshiro256**). The same seed
// gives the same sequence on every platform and standard library, which is
// what lets a simulation replay from its seed. Not cryptographic; keys and
// nonces come from crypto/. Not thread-safe: one per owner.

#include <cstdint>

namespace dhtalk {

class Rng {
public:
    explicit Rng(uint64_t seed);

    uint64_t next_u64();
    // Uniform in [0, bound); bound must be > 0.
    uint64_t uniform(uint64_t bound);
    // Uniform in [lo, hi].
    int64_t uniform_int(int64_t lo, int64_t hi);
    // Uniform in [0, 1).
    double uniform01();
    bool bernoulli(double p) { return uniform01() < p; }

private:
    uint64_t s_[4];
};

}  // namespace dhtalk
