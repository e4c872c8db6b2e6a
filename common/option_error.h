#pragma once
// The message for a Boost.Program_options error, safe for any input.
// Boost 1.74 fills its messages by replacing placeholders such as %value%
// until none is left, so an argument or config value that itself contains
// "%value%" makes what() loop forever (found by fuzz/config_fuzz.cpp). When
// the input holds a '%', the message is built from the option's name alone.
// Header-only.

#include <string>
#include <vector>

#include <boost/program_options/errors.hpp>

namespace dhtalk {

inline bool holds_percent(const std::vector<std::string>& inputs) {
    for (const auto& s : inputs)
        if (s.find('%') != std::string::npos) return true;
    return false;
}

inline std::string describe_option_error(const boost::program_options::error& e, bool input_has_percent) {
    if (!input_has_percent) return e.what();
    if (const auto* named = dynamic_cast<const boost::program_options::error_with_option_name*>(&e))
        return "invalid option or value for '" + named->get_option_name() + "'";
    return "invalid options";
}

}  // namespace dhtalk
