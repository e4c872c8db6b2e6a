#pragma once
// The numeric network id that OpenDHT uses to keep networks apart, derived
// from the network's name so that every node of a network computes the same
// one. Never 0: that is the public Jami network. (Issue 3 derives it from the
// genesis document instead, so that two networks with one name never mix.)

#include <cstdint>
#include <string_view>

namespace dhtalk::crypto {

uint32_t network_id_from_name(std::string_view name);

}  // namespace dhtalk::crypto
