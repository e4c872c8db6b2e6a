#pragma once
// PolicyCounters: how many values a store policy accepted and refused.
// Shared between OpenDHT's thread (the policies count) and status readers.

#include <atomic>
#include <cstdint>

namespace dhtalk {

struct PolicyCounters {
    std::atomic<uint64_t> accepted{0};
    std::atomic<uint64_t> refused{0};
};

}  // namespace dhtalk
