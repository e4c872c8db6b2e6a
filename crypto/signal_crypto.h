#pragma once
// The Signal protocol library (libomemo-c) takes its primitives from its
// user: randomness, HMAC-SHA256, SHA-512 and AES-CBC with PKCS#5 padding.
// SignalContext is a libomemo-c context served by GnuTLS. AES-CTR, which the
// library asks for only in sessions of protocol version 2 (never made here),
// is refused. One context per thread: the library is given no locks.

#include <memory>

#include "common/status.h"

struct signal_context;

namespace dhtalk::crypto {

class SignalContext {
public:
    static Result<std::unique_ptr<SignalContext>> create();
    SignalContext(const SignalContext&) = delete;
    SignalContext& operator=(const SignalContext&) = delete;
    ~SignalContext();

    signal_context* get() const { return context_; }

private:
    SignalContext() = default;
    signal_context* context_ = nullptr;
};

// The library's error code as words, for messages ("invalid MAC", ...).
const char* signal_error_name(int code);

}  // namespace dhtalk::crypto
