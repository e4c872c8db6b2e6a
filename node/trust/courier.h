#pragma once
// Courier: delivers the trusted network's documents to other nodes' peer
// services (peer_service.h) from one background thread, so that no caller
// waits on the network. The queue is bounded: past it the oldest letters are
// dropped and counted (peers catch up by pulling the roster anyway).
// fetch_roster() is the one blocking call, for catch-up. Thread-safe.

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"

namespace dhtalk {

inline constexpr const char* kOriginHeader = "X-Dhtalk-Origin";

struct PeerAnswer {
    int status = 0;  // HTTP status
    std::string body;
};

// One request to a peer's service (blocking, bounded by timeouts), reading
// at most `limit` bytes of its answer: a peer cannot make this node buffer
// more than that. kUnavailable when no connection could be made (the peer
// heard nothing), kTimeout when the exchange failed after it (it may have).
Result<PeerAnswer> peer_exchange(const std::string& endpoint, const std::string& method, const std::string& path,
                                 const std::string& body, size_t limit, const std::string& origin = {});

class Courier {
public:
    static constexpr size_t kMaxQueued = 1024;
    // The most of a peer's verdict on a POST this node reads (a line of
    // text); epoch lists are read up to kMaxEpochListBytes (peer_service.h).
    static constexpr size_t kMaxVerdictBytes = 4096;

    Courier();
    ~Courier();

    // Queues a POST of `body` to `path` at `endpoint` (HOST:PORT). A relayed
    // application carries the address it first came from (`origin`, sent
    // as kOriginHeader), which members count their pending bound by.
    void send(const std::string& endpoint, const std::string& path, std::string body, std::string origin = {});
    // GET /v1/roster?from=N at `endpoint`: encoded epochs (blocking, bounded by timeouts).
    Result<std::vector<std::string>> fetch_roster(const std::string& endpoint, uint64_t from);
    // POSTs now and returns the peer's verdict (used by an applicant).
    Status post(const std::string& endpoint, const std::string& path, const std::string& body,
                const std::string& origin = {});

    uint64_t dropped() const { return dropped_; }
    uint64_t failed() const { return failed_; }

private:
    // A letter a peer answered busy (503) goes to the back of the queue, to
    // be sent again a little later, at most this many times in all: a member
    // overloaded for a moment still hears it (ballots are not caught up by
    // pulling, as epochs are).
    static constexpr unsigned kMaxTries = 4;
    struct Letter {
        std::string endpoint, path, body, origin;
        unsigned tries = 0;
        std::chrono::steady_clock::time_point not_before{};
    };
    void run();

    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<Letter> queue_;  // guarded by mutex_
    bool stopping_ = false;     // guarded by mutex_
    std::atomic<uint64_t> dropped_{0};
    std::atomic<uint64_t> failed_{0};
    std::thread thread_;  // last: started after everything it uses
};

}  // namespace dhtalk
