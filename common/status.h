#pragma once
// Status and Result<T>: how every expected failure (disk, network, peer data,
// config, user input) travels in dhtalk. Exceptions from libraries are caught
// at the call site and turned into one of these; they never cross a module.
// Both are plain values: copyable, no shared state, safe on any thread.

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace dhtalk {

enum class Code {
    kOk = 0,
    kInvalidArgument,  // the caller (user, config, peer) sent something malformed
    kNotFound,
    kAlreadyExists,
    kCorruption,       // data on disk or from a peer fails its checks
    kIoError,
    kBusy,             // a resource is held by someone else (a lock, a port)
    kUnavailable,      // a remote party or subsystem cannot answer now
    kTimeout,
    kPermissionDenied,  // the caller is not allowed this (a certificate, an owner, a signature)
    kResourceExhausted, // a limit was reached (a rate, a count); try again later
    kInternal,
};

const char* code_name(Code code);

class [[nodiscard]] Status {
public:
    Status() = default;
    Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

    static Status ok() { return {}; }
    static Status invalid(std::string m) { return {Code::kInvalidArgument, std::move(m)}; }
    static Status not_found(std::string m) { return {Code::kNotFound, std::move(m)}; }
    static Status corruption(std::string m) { return {Code::kCorruption, std::move(m)}; }
    static Status io_error(std::string m) { return {Code::kIoError, std::move(m)}; }
    static Status busy(std::string m) { return {Code::kBusy, std::move(m)}; }
    static Status unavailable(std::string m) { return {Code::kUnavailable, std::move(m)}; }
    static Status timeout(std::string m) { return {Code::kTimeout, std::move(m)}; }
    static Status internal(std::string m) { return {Code::kInternal, std::move(m)}; }
    static Status denied(std::string m) { return {Code::kPermissionDenied, std::move(m)}; }
    static Status exhausted(std::string m) { return {Code::kResourceExhausted, std::move(m)}; }

    bool is_ok() const { return code_ == Code::kOk; }
    explicit operator bool() const { return is_ok(); }
    Code code() const { return code_; }
    const std::string& message() const { return message_; }
    // "io error: cannot open /x: No such file or directory"
    std::string to_string() const;

    // Writes out, at the call site, that a failure is deliberately not acted on.
    void ignore_error() const {}

private:
    Code code_ = Code::kOk;
    std::string message_;
};

// A value or the Status that explains why there is none.
template <class T>
class [[nodiscard]] Result {
public:
    Result(T value) : v_(std::move(value)) {}
    Result(Status status) : v_(std::move(status)) { assert(!std::get<Status>(v_).is_ok()); }

    bool is_ok() const { return std::holds_alternative<T>(v_); }
    explicit operator bool() const { return is_ok(); }

    const T& value() const& { assert(is_ok()); return std::get<T>(v_); }
    T& value() & { assert(is_ok()); return std::get<T>(v_); }
    T&& value() && { assert(is_ok()); return std::get<T>(std::move(v_)); }
    const T& operator*() const& { return value(); }
    T& operator*() & { return value(); }
    const T* operator->() const { return &value(); }
    T* operator->() { return &value(); }

    Status status() const { return is_ok() ? Status::ok() : std::get<Status>(v_); }

private:
    std::variant<T, Status> v_;
};

}  // namespace dhtalk

// Returns early from the enclosing function when `expr` yields a failed Status.
#define DHTALK_TRY(expr)                                   \
    do {                                                   \
        ::dhtalk::Status dhtalk_try_status_ = (expr);      \
        if (!dhtalk_try_status_.is_ok()) return dhtalk_try_status_; \
    } while (0)
