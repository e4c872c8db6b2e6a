#include "common/status.h"

namespace dhtalk {

const char* code_name(Code code) {
    switch (code) {
    case Code::kOk: return "ok";
    case Code::kInvalidArgument: return "invalid argument";
    case Code::kNotFound: return "not found";
    case Code::kAlreadyExists: return "already exists";
    case Code::kCorruption: return "corruption";
    case Code::kIoError: return "io error";
    case Code::kBusy: return "busy";
    case Code::kUnavailable: return "unavailable";
    case Code::kTimeout: return "timeout";
    case Code::kPermissionDenied: return "permission denied";
    case Code::kResourceExhausted: return "limit reached";
    case Code::kInternal: return "internal error";
    }
    return "unknown";
}

std::string Status::to_string() const {
    if (is_ok()) return "ok";
    return std::string(code_name(code_)) + ": " + message_;
}

}  // namespace dhtalk
