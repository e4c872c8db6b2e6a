#include "node/trust/courier.h"

#include <algorithm>

#include "common/log.h"
#include "node/trust/peer_service.h"

namespace dhtalk {

Status post_document(PeerNet& net, const std::string& endpoint, const std::string& path, const std::string& body,
                     const std::string& origin) {
    auto res = net.exchange(endpoint, PeerCall{"POST", path, body, origin}, kMaxVerdictBytes);
    if (!res) return res.status();
    if (res->status == 200) return Status(Code::kAlreadyExists, "already held");
    if (res->status == 202) return Status::ok();
    if (res->status == 503) return Status::busy(endpoint + " is busy: " + res->body);
    return Status::invalid(endpoint + " refused it: " + res->body);
}

Result<std::vector<std::string>> fetch_roster(PeerNet& net, const std::string& endpoint, uint64_t from) {
    auto res = net.exchange(endpoint, PeerCall{"GET", "/v1/roster?from=" + std::to_string(from), {}, {}},
                            kMaxEpochListBytes);
    if (!res) return res.status();
    if (res->status != 200) return Status::unavailable(endpoint + " answered HTTP " + std::to_string(res->status));
    return decode_epoch_list(res->body);
}

Courier::Courier(Drivers& drivers, PeerNet& net)
    : net_(net), drive_(drivers.start("courier", [this](SteadyTime now) { return turn(now); })) {}

Courier::~Courier() { drive_.reset(); }  // waits for a letter on its way

void Courier::send(const std::string& endpoint, const std::string& path, std::string body, std::string origin) {
    {
        std::lock_guard lock(mutex_);
        if (queue_.size() >= kMaxQueued) {
            queue_.pop_front();
            dropped_++;
        }
        queue_.push_back({endpoint, path, std::move(body), std::move(origin)});
    }
    drive_->wake();
}

SteadyTime Courier::turn(SteadyTime now) {
    Letter letter;
    {
        std::lock_guard lock(mutex_);
        auto due = std::find_if(queue_.begin(), queue_.end(), [&](const Letter& l) { return l.not_before <= now; });
        if (due == queue_.end()) {
            SteadyTime next = SteadyTime::max();
            for (const auto& l : queue_) next = std::min(next, l.not_before);
            return next;
        }
        letter = std::move(*due);
        queue_.erase(due);
    }
    Status s = post_document(net_, letter.endpoint, letter.path, letter.body, letter.origin);
    std::lock_guard lock(mutex_);
    if (s.code() == Code::kBusy && ++letter.tries < kMaxTries) {
        letter.not_before = now + std::chrono::milliseconds(250) * letter.tries;
        if (queue_.size() < kMaxQueued) queue_.push_back(std::move(letter));
        else dropped_++;
    } else if (!s && s.code() != Code::kAlreadyExists) {
        failed_++;
        DHTALK_LOG(kDebug, "courier", letter.path << " to " << letter.endpoint << ": " << s.message());
    }
    return queue_.empty() ? SteadyTime::max() : now;
}

}  // namespace dhtalk
