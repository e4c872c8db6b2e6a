#pragma once
// Courier: delivers the trusted network's documents to other nodes' peer
// services (peer_service.h) on a drive of its own (common/drivers.h), so
// that no caller waits on the network. The queue is bounded: past it the
// oldest letters are dropped and counted (peers catch up by pulling the
// roster anyway). Thread-safe.
//
// post_document() and fetch_roster() are the blocking calls beside it: an
// applicant's verdict, and catch-up.

#include <atomic>
#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/drivers.h"
#include "common/status.h"
#include "net/peer_net.h"

namespace dhtalk {

// The most of a peer's verdict on a POST this node reads (a line of text);
// epoch lists are read up to kMaxEpochListBytes (peer_service.h).
inline constexpr size_t kMaxVerdictBytes = 4096;

// POSTs `body` to `path` at `endpoint` now: ok (taken), kAlreadyExists
// (already held), kBusy (503), or why it was refused or not delivered.
Status post_document(PeerNet& net, const std::string& endpoint, const std::string& path, const std::string& body,
                     const std::string& origin = {});
// GET /v1/roster?from=N at `endpoint`: encoded epochs.
Result<std::vector<std::string>> fetch_roster(PeerNet& net, const std::string& endpoint, uint64_t from);

class Courier {
public:
    static constexpr size_t kMaxQueued = 1024;

    // `drivers` and `net` must outlive the courier.
    Courier(Drivers& drivers, PeerNet& net);
    ~Courier();

    // Queues a POST of `body` to `path` at `endpoint` (HOST:PORT). A relayed
    // application carries the address it first came from (`origin`, sent
    // as kOriginHeader), which members count their pending bound by.
    void send(const std::string& endpoint, const std::string& path, std::string body, std::string origin = {});

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
        SteadyTime not_before{};
    };
    // Sends the first letter that is due; returns when the next one is.
    SteadyTime turn(SteadyTime now);

    PeerNet& net_;
    std::mutex mutex_;
    std::deque<Letter> queue_;  // guarded by mutex_
    std::atomic<uint64_t> dropped_{0};
    std::atomic<uint64_t> failed_{0};
    std::unique_ptr<Drive> drive_;  // last: started after everything it uses
};

}  // namespace dhtalk
