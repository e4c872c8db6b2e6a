#pragma once
// Logging to stderr with a process-wide level. Thread-safe: each line is
// written whole. Used by every layer; OpenDHT's own logger is routed here by
// dht/ so that one --log-level governs both.

#include <sstream>
#include <string>
#include <string_view>

#include "common/status.h"

namespace dhtalk::log {

enum class Level { kDebug = 0, kInfo, kWarning, kError, kOff };

// Parses "debug", "info", "warning", "error", "off".
Result<Level> parse_level(std::string_view name);
const char* level_name(Level level);

void set_level(Level level);
Level level();
bool enabled(Level level);

void write(Level level, std::string_view component, std::string_view message);

}  // namespace dhtalk::log

// DHTALK_LOG(kInfo, "node", "started on port " << port);
#define DHTALK_LOG(lvl, component, stream_expr)                                   \
    do {                                                                          \
        if (::dhtalk::log::enabled(::dhtalk::log::Level::lvl)) {                  \
            std::ostringstream dhtalk_log_os_;                                    \
            dhtalk_log_os_ << stream_expr;                                        \
            ::dhtalk::log::write(::dhtalk::log::Level::lvl, component, dhtalk_log_os_.str()); \
        }                                                                         \
    } while (0)
