#include "common/json.h"

#include <memory>

namespace dhtalk::json {

Result<Json::Value> parse_object(std::string_view text, size_t max_bytes) {
    if (text.size() > max_bytes)
        return Status::invalid("JSON document of " + std::to_string(text.size()) + " bytes exceeds " +
                               std::to_string(max_bytes));
    Json::CharReaderBuilder builder;
    builder["stackLimit"] = 64;
    builder["rejectDupKeys"] = true;
    builder["failIfExtra"] = true;
    std::unique_ptr<Json::CharReader> reader(builder.newCharReader());
    Json::Value root;
    std::string errors;
    try {
        if (!reader->parse(text.data(), text.data() + text.size(), &root, &errors))
            return Status::invalid("malformed JSON: " + errors);
    } catch (const Json::Exception& e) {  // thrown past the nesting limit
        return Status::invalid(std::string("malformed JSON: ") + e.what());
    }
    if (!root.isObject()) return Status::invalid("malformed JSON: the document is not an object");
    return root;
}

std::string to_compact(const Json::Value& v) {
    Json::StreamWriterBuilder b;
    b["indentation"] = "";
    return Json::writeString(b, v);
}

std::string to_pretty(const Json::Value& v) {
    Json::StreamWriterBuilder b;
    b["indentation"] = "  ";
    return Json::writeString(b, v);
}

}  // namespace dhtalk::json
