#pragma once
// address_bucket: the unit per-address limits count in. An IPv4 address is
// its own bucket; an IPv6 address counts as its /64, the block one site or
// one customer gets, so that a host cannot escape a limit by walking its
// 2^64 addresses. An IPv4 address mapped into IPv6 counts as the IPv4 one.
// Anything that does not parse is its own bucket.

#include <string>
#include <string_view>

namespace dhtalk {

std::string address_bucket(std::string_view ip);

}  // namespace dhtalk
