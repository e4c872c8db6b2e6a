#pragma once
// VerificationSender: how a node delivers a verification code to a phone
// number, chosen with --sms-provider.
//   file:   appends one JSON line {"time","phone","code"} to a file; for
//           development and tests (the operator reads the code there).
//   vonage: Vonage's (formerly Nexmo's) SMS API: an HTTPS form POST to
//           /sms/json with api_key, api_secret, from, to and text; the
//           reply's messages[0].status is "0" on success, else error-text
//           says why. The URL is configurable so tests use a local server.
// send() blocks (file write or HTTP round trip); the front end calls it from
// its sender thread. Implementations are thread-safe.

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "common/clock.h"
#include "common/status.h"

namespace dhtalk {

class VerificationSender {
public:
    virtual ~VerificationSender() = default;
    // Delivers `code` to `e164`; kUnavailable when the provider cannot now.
    virtual Status send(const std::string& e164, const std::string& code) = 0;
};

class FileSender final : public VerificationSender {
public:
    // Each line carries `clock`'s wall time; `clock` must outlive the sender.
    FileSender(std::filesystem::path path, const Clock& clock) : path_(std::move(path)), clock_(clock) {}
    Status send(const std::string& e164, const std::string& code) override;

private:
    std::filesystem::path path_;
    const Clock& clock_;
    std::mutex mutex_;  // one line at a time
};

// Hands each code to a function instead of a phone: tests and simulations
// read the codes their nodes send. The function must be thread-safe.
class CallbackSender final : public VerificationSender {
public:
    using Callback = std::function<void(const std::string& e164, const std::string& code)>;
    explicit CallbackSender(Callback callback) : callback_(std::move(callback)) {}
    Status send(const std::string& e164, const std::string& code) override {
        callback_(e164, code);
        return Status::ok();
    }

private:
    Callback callback_;
};

struct VonageConfig {
    std::string url = "https://rest.nexmo.com/sms/json";
    std::string api_key;
    std::string api_secret;
    std::string from = "dhtalk";  // sender id shown on the phone
    std::chrono::seconds timeout{10};
};

class VonageSender final : public VerificationSender {
public:
    explicit VonageSender(VonageConfig config) : config_(std::move(config)) {}
    Status send(const std::string& e164, const std::string& code) override;

private:
    VonageConfig config_;
};

// The text of the message that carries `code`.
std::string verification_text(const std::string& code);

}  // namespace dhtalk
