#include "crypto/network_id.h"

#include <gnutls/crypto.h>

#include <array>
#include <string>

namespace dhtalk::crypto {

uint32_t network_id_from_name(std::string_view name) {
    std::string input = "dhtalk network id v1";
    input.push_back('\0');
    input.append(name);
    std::array<unsigned char, 32> digest{};
    // SHA-256 over a small in-memory buffer cannot fail short of a broken library.
    if (gnutls_hash_fast(GNUTLS_DIG_SHA256, input.data(), input.size(), digest.data()) != 0) std::abort();
    uint32_t id = (uint32_t{digest[0]} << 24) | (uint32_t{digest[1]} << 16) | (uint32_t{digest[2]} << 8) |
                  uint32_t{digest[3]};
    return id == 0 ? 1 : id;
}

}  // namespace dhtalk::crypto
