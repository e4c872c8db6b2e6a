#include "node/front/verification_sender.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <curl/curl.h>
#include <json/json.h>

#include "common/clock.h"
#include "common/json.h"

namespace dhtalk {
namespace {

constexpr size_t kMaxGatewayReply = 64 * 1024;

size_t collect(char* data, size_t size, size_t n, void* out) {
    auto* body = static_cast<std::string*>(out);
    if (body->size() + size * n > kMaxGatewayReply) return 0;  // aborts the transfer
    body->append(data, size * n);
    return size * n;
}

std::string form_escape(CURL* curl, const std::string& s) {
    char* e = curl_easy_escape(curl, s.data(), static_cast<int>(s.size()));
    std::string out = e ? e : "";
    curl_free(e);
    return out;
}

}  // namespace

std::string verification_text(const std::string& code) { return "Your dhtalk verification code: " + code; }

Status FileSender::send(const std::string& e164, const std::string& code) {
    Json::Value line;
    line["time"] = Json::Int64(to_unix_seconds(clock_.wall_now()));
    line["phone"] = e164;
    line["code"] = code;
    Json::StreamWriterBuilder w;
    w["indentation"] = "";
    const std::string text = Json::writeString(w, line) + "\n";
    std::lock_guard lock(mutex_);
    const int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) return Status::unavailable("cannot open " + path_.string() + ": " + std::strerror(errno));
    const ssize_t n = ::write(fd, text.data(), text.size());
    const int err = errno;
    ::close(fd);
    if (n != static_cast<ssize_t>(text.size()))
        return Status::unavailable("cannot write " + path_.string() + ": " + std::strerror(err));
    return Status::ok();
}

Status VonageSender::send(const std::string& e164, const std::string& code) {
    std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
    if (!curl) return Status::internal("cannot start an HTTP client");
    // Vonage takes the number without its '+'.
    const std::string to = e164.substr(e164.rfind('+') == 0 ? 1 : 0);
    const std::string form = "api_key=" + form_escape(curl.get(), config_.api_key) +
                             "&api_secret=" + form_escape(curl.get(), config_.api_secret) +
                             "&from=" + form_escape(curl.get(), config_.from) + "&to=" + form_escape(curl.get(), to) +
                             "&text=" + form_escape(curl.get(), verification_text(code));
    std::string reply;
    curl_easy_setopt(curl.get(), CURLOPT_URL, config_.url.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDS, form.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDSIZE, static_cast<long>(form.size()));
    curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT, static_cast<long>(config_.timeout.count()));
    curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl.get(), CURLOPT_PROTOCOLS_STR, "https,http");
    curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &reply);
    const CURLcode rc = curl_easy_perform(curl.get());
    if (rc != CURLE_OK) return Status::unavailable(std::string("the SMS gateway cannot be reached: ") + curl_easy_strerror(rc));
    long http = 0;
    curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &http);
    if (http != 200) return Status::unavailable("the SMS gateway answered HTTP " + std::to_string(http));
    auto doc = json::parse_object(reply, kMaxGatewayReply);
    if (!doc) return Status::unavailable("the SMS gateway's reply is not JSON: " + doc.status().message());
    const Json::Value& messages = (*doc)["messages"];
    if (!messages.isArray() || messages.empty() || !messages[0].isObject())
        return Status::unavailable("the SMS gateway's reply has no messages");
    const Json::Value& first = messages[0];
    const std::string status = first["status"].isString() ? first["status"].asString() : "";
    if (status == "0") return Status::ok();
    const std::string why = first["error-text"].isString() ? first["error-text"].asString() : "no reason given";
    return Status::unavailable("the SMS gateway refused the message (status " + status + "): " + why);
}

}  // namespace dhtalk
