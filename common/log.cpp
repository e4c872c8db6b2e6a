#include "common/log.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace dhtalk::log {
namespace {

std::atomic<Level> g_level{Level::kInfo};
std::mutex g_write_mutex;  // guards stderr so that lines never interleave

}  // namespace

Result<Level> parse_level(std::string_view name) {
    for (auto l : {Level::kDebug, Level::kInfo, Level::kWarning, Level::kError, Level::kOff})
        if (name == level_name(l)) return l;
    return Status::invalid("unknown log level '" + std::string(name) +
                           "' (expected debug, info, warning, error or off)");
}

const char* level_name(Level level) {
    switch (level) {
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarning: return "warning";
    case Level::kError: return "error";
    case Level::kOff: return "off";
    }
    return "?";
}

void set_level(Level level) { g_level = level; }
Level level() { return g_level; }
bool enabled(Level level) { return level != Level::kOff && level >= g_level.load(); }

void write(Level level, std::string_view component, std::string_view message) {
    using namespace std::chrono;
    const auto now = system_clock::now();
    const std::time_t secs = system_clock::to_time_t(now);
    const auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    std::lock_guard lock(g_write_mutex);
    std::fprintf(stderr, "%s.%03dZ %-7s %.*s: %.*s\n", stamp, static_cast<int>(ms), level_name(level),
                 static_cast<int>(component.size()), component.data(), static_cast<int>(message.size()),
                 message.data());
}

}  // namespace dhtalk::log
