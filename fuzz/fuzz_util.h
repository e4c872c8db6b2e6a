#pragma once
// Shared by the libFuzzer targets (fuzz/README.md): the input as a string
// view, and a first byte that picks one of several decoders of a target.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace dhtalk::fuzz {

inline std::string_view as_text(const uint8_t* data, size_t size) {
    return {reinterpret_cast<const char*>(data), size};
}

// Splits off the selector byte: `which` in [0, choices), the rest in `rest`.
inline bool select(const uint8_t* data, size_t size, unsigned choices, unsigned& which, std::string_view& rest) {
    if (size == 0) return false;
    which = data[0] % choices;
    rest = as_text(data + 1, size - 1);
    return true;
}

}  // namespace dhtalk::fuzz
