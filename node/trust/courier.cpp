#include "node/trust/courier.h"

#include <httplib.h>

#include "common/log.h"
#include "common/host_port.h"
#include "node/trust/peer_service.h"

namespace dhtalk {
namespace {

Result<std::unique_ptr<httplib::Client>> client_for(const std::string& endpoint) {
    auto hp = parse_host_port(endpoint);
    if (!hp) return hp.status();
    auto c = std::make_unique<httplib::Client>(hp->first, hp->second);
    c->set_connection_timeout(2, 0);
    c->set_read_timeout(5, 0);
    c->set_write_timeout(5, 0);
    return c;
}

}  // namespace

Result<PeerAnswer> peer_exchange(const std::string& endpoint, const std::string& method, const std::string& path,
                                 const std::string& body, size_t limit, const std::string& origin) {
    auto c = client_for(endpoint);
    if (!c) return c.status();
    PeerAnswer answer;
    bool too_long = false;
    httplib::Request req;
    req.method = method;
    req.path = path;
    if (!body.empty()) {
        req.body = body;
        req.set_header("Content-Type", "application/msgpack");
    }
    if (!origin.empty()) req.set_header(kOriginHeader, origin);
    req.content_receiver = [&](const char* data, size_t size, uint64_t, uint64_t) {
        if (answer.body.size() + size > limit) {
            too_long = true;
            return false;
        }
        answer.body.append(data, size);
        return true;
    };
    auto res = (*c)->send(req);
    if (too_long)
        return Status::corruption(endpoint + " answered with more than " + std::to_string(limit) + " bytes");
    if (!res) {
        // Whether the request may have been heard: only a failed connection says it was not.
        const Code code = res.error() == httplib::Error::Connection ? Code::kUnavailable : Code::kTimeout;
        return Status(code, "cannot reach " + endpoint + ": " + httplib::to_string(res.error()));
    }
    answer.status = res->status;
    return answer;
}

Courier::Courier() : thread_([this] { run(); }) {}

Courier::~Courier() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
}

void Courier::send(const std::string& endpoint, const std::string& path, std::string body, std::string origin) {
    {
        std::lock_guard lock(mutex_);
        if (queue_.size() >= kMaxQueued) {
            queue_.pop_front();
            dropped_++;
        }
        queue_.push_back({endpoint, path, std::move(body), std::move(origin)});
    }
    wake_.notify_one();
}

Status Courier::post(const std::string& endpoint, const std::string& path, const std::string& body,
                     const std::string& origin) {
    auto res = peer_exchange(endpoint, "POST", path, body, kMaxVerdictBytes, origin);
    if (!res) return res.status();
    if (res->status == 200) return Status(Code::kAlreadyExists, "already held");
    if (res->status == 202) return Status::ok();
    if (res->status == 503) return Status::busy(endpoint + " is busy: " + res->body);
    return Status::invalid(endpoint + " refused it: " + res->body);
}

Result<std::vector<std::string>> Courier::fetch_roster(const std::string& endpoint, uint64_t from) {
    auto res = peer_exchange(endpoint, "GET", "/v1/roster?from=" + std::to_string(from), {}, kMaxEpochListBytes);
    if (!res) return res.status();
    if (res->status != 200) return Status::unavailable(endpoint + " answered HTTP " + std::to_string(res->status));
    return decode_epoch_list(res->body);
}

void Courier::run() {
    for (;;) {
        Letter letter;
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
            if (stopping_) return;
            letter = std::move(queue_.front());
            queue_.pop_front();
            if (wake_.wait_until(lock, letter.not_before, [&] { return stopping_; })) return;
        }
        Status s = post(letter.endpoint, letter.path, letter.body, letter.origin);
        if (s.code() == Code::kBusy && ++letter.tries < kMaxTries) {
            letter.not_before = std::chrono::steady_clock::now() + std::chrono::milliseconds(250) * letter.tries;
            std::lock_guard lock(mutex_);
            if (queue_.size() < kMaxQueued) {
                queue_.push_back(std::move(letter));
                continue;
            }
            dropped_++;
            continue;
        }
        if (!s && s.code() != Code::kAlreadyExists) {
            failed_++;
            DHTALK_LOG(kDebug, "courier", letter.path << " to " << letter.endpoint << ": " << s.message());
        }
    }
}

}  // namespace dhtalk
