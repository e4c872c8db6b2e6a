#pragma once
// parse_host_port: "HOST:PORT" as dhtalk's options and rosters write an
// endpoint, IPv6 in brackets ("[ADDR]:PORT").

#include <cstdint>
#include <string>
#include <utility>

#include "common/status.h"

namespace dhtalk {

// Splits "host:port" or "[v6]:port"; port 1..65535 required.
Result<std::pair<std::string, uint16_t>> parse_host_port(const std::string& text);

}  // namespace dhtalk
