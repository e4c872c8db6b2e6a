#include "common/address_bucket.h"

#include <arpa/inet.h>

#include <cstdio>
#include <cstring>

namespace dhtalk {

std::string address_bucket(std::string_view ip) {
    if (ip.size() >= INET6_ADDRSTRLEN) return std::string(ip);
    char text[INET6_ADDRSTRLEN];
    std::memcpy(text, ip.data(), ip.size());
    text[ip.size()] = '\0';
    in6_addr a6;
    if (inet_pton(AF_INET6, text, &a6) != 1) return std::string(ip);  // IPv4, or not an address
    const uint8_t* b = a6.s6_addr;
    static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(b, kMapped, sizeof kMapped) == 0) {
        char v4[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, b + 12, v4, sizeof v4);
        return v4;
    }
    char out[48];
    std::snprintf(out, sizeof out, "%x:%x:%x:%x::/64", (b[0] << 8) | b[1], (b[2] << 8) | b[3], (b[4] << 8) | b[5],
                  (b[6] << 8) | b[7]);
    return out;
}

}  // namespace dhtalk
