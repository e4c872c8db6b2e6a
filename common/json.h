#pragma once
// JSON for dhtalk's human-facing data (runtime.json, /status, --json output),
// on jsoncpp, which OpenDHT already depends on. Parsing is bounded and never
// throws: JSON from a file or a socket is hostile input.

#include <string>
#include <string_view>

#include <json/json.h>

#include "common/status.h"

namespace dhtalk::json {

// Parses a JSON document of at most max_bytes; the root must be an object.
Result<Json::Value> parse_object(std::string_view text, size_t max_bytes = 1 << 20);

std::string to_compact(const Json::Value& v);
std::string to_pretty(const Json::Value& v);

}  // namespace dhtalk::json
