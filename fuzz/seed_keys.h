#pragma once
// The fixed key, addresses and clock the sealed-datagram target and its seed
// corpus share, so that seeds open at the target's receiver.

#include <opendht/sockaddr.h>

#include "common/clock.h"
#include "net/sealed_socket.h"

namespace dhtalk::fuzz {

inline EpochKey seal_key() {
    EpochKey k;
    k.epoch = 7;
    k.key.fill(0x5a);
    return k;
}

// Member 0 sends, member 1 receives.
inline dht::SockAddr member_address(int i) {
    auto a = dht::SockAddr::resolve(i == 0 ? "10.0.0.1" : "10.0.0.2").front();
    a.setPort(4222);
    return a;
}

inline const SteadyTime kSteadyStart{};
inline const WallTime kWallStart = from_unix_millis(1'800'000'000'000);

}  // namespace dhtalk::fuzz
