#pragma once
// The store policies for OpenDHT's own value types. On a network with a
// roster no part of dhtalk puts them, so every one a peer offers is refused;
// on a plain network (research with stock peers) the default type is kept,
// bounded in size.

#include <cstddef>
#include <memory>

#include "dht/policy_counters.h"

namespace dht {
class DhtRunner;
}

namespace dhtalk {

// The largest value of the default type a plain network stores (OpenDHT's own
// bound, named here because the policy enforces it).
inline constexpr size_t kMaxValueBytes = 64 * 1024;

enum class StockTypes { kRefuseAll, kBoundedDefault };

void register_stock_types(dht::DhtRunner& runner, StockTypes mode, std::shared_ptr<PolicyCounters> counters);

}  // namespace dhtalk
