#pragma once
// MediaService: a node's part in the media chunks (docs/media.md).
//   - For a user logged in here, it has each uploaded chunk held by the
//     chunk's holders: the members ranked by the chunk's hash weighted by
//     the space each offers (dht/placement.h, rank_weighted), and says
//     "stored" once kChunkHolders of them (every offering member, in a
//     smaller network) have it on disk. A holder that is down, full, or past
//     the user's quota is passed over for the next in the chunk's order.
//   - For a download, it fetches the chunk from the first holder in that
//     order that has it, and checks it against its name (its hash).
//   - As a holder, it keeps chunks (dht/chunk_store.h), answers other
//     members' requests (media_messages.h), and drops what expires.
//   - Repair: after the live members change, each node makes sure the
//     holders each of its chunks has now hold it, and a stand-in lets go
//     of its copy once they do (media_repair.cpp).
// Requests to other members run on workers of its own, so callers never
// wait on the network; `done` runs there (or at once). Thread-safe.

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/drivers.h"
#include "common/worker.h"
#include "crypto/node_identity.h"
#include "dht/chunk_store.h"
#include "net/peer_net.h"
#include "node/front/media_messages.h"
#include "node/front/repair_pacer.h"
#include "node/trust/peer_service.h"

namespace dhtalk {

struct MediaPeer {
    std::string node_id;
    std::string endpoint;  // HOST:PORT of its peer service
    std::string fast_key;  // Ed25519: its requests and answers are signed with it
    bool alive = true;     // not declared dead by the membership protocol
    uint32_t offer_mib = 0;  // what it offers for media (its advert): its weight
};

struct MediaConfig {
    uint32_t network_id = 0;
    ChunkLimits limits;
    // A chunk is dropped this long after its upload (files expire with it).
    std::chrono::seconds ttl{std::chrono::hours(24 * 30)};
    std::chrono::seconds max_skew{300};  // a request sent further than this from the holder's clock is refused
    size_t workers = 4;                  // chunk transfers to other members at once
    size_t max_queued = 256;             // per worker
};

class MediaService final : public MediaHandler {
public:
    using Done = std::function<void(Status)>;
    using Fetched = std::function<void(Result<std::string>)>;

    // `identity`, `store`, `clock`, `drivers` and `net` must outlive it.
    MediaService(MediaConfig config, const crypto::NodeIdentity& identity, Store& store, const Clock& clock,
                 Drivers& drivers, PeerNet& net);
    ~MediaService() override { stop(); }

    // Counts the chunks held before a restart; call before serving.
    Result<ChunkStore::LoadResult> load() { return chunks_.load(); }
    // The current members, this node among them. Unset (or empty), this node
    // holds every chunk itself. Set before the first request.
    void attach_members(std::function<std::vector<MediaPeer>()> members) { members_ = std::move(members); }

    // Has the chunk held for `owner` by its holders: done(ok) once enough
    // have it on disk, else the last refusal (a quota, full space) or why
    // none could be reached. A retry is safe.
    void put(std::string chunk_id, std::string owner, std::string bytes, Done done);
    // The chunk's bytes, checked against its id; kNotFound if no holder
    // that answers has it.
    void get(std::string chunk_id, Fetched done);

    // Drops what has expired here; returns how many.
    size_t expire();
    // Repair (media_repair.cpp): once the live members have stayed the same
    // from one call to the next after a change, hands each chunk held here
    // to those of its holders now that lack it (on a worker). Call every
    // snapshot interval.
    void repair_later();
    struct RepairResult {
        size_t copies = 0;     // chunks a holder took that it lacked
        size_t released = 0;   // copies this node let go of, no holder of theirs
        bool complete = true;  // every holder could be asked
    };
    RepairResult repair();
    size_t repaired_copies() const { return repairs_.copies(); }
    ChunkStore::Usage held() const { return chunks_.total(); }
    void stop();

    // MediaHandler: a request from another member.
    Result<std::string> on_media_request(std::string_view request) override;

private:
    // The members that may hold `chunk_id`, in its order (this node alone
    // when none are attached), and how many must hold it.
    struct Holders {
        std::vector<MediaPeer> live;
        size_t needed = 1;
    };
    Holders holders_of(const std::string& chunk_id) const;
    // Asks `peer` and checks its answer; kUnavailable if it could not hear.
    Result<MediaAnswer> ask(const MediaPeer& peer, MediaRequest request);
    Status hold_here(const std::string& chunk_id, const std::string& owner, int64_t expires_s, std::string_view bytes);
    bool post(const std::string& chunk_id, std::function<void()> job, const std::function<void(Status)>& refused);

    MediaConfig config_;
    const crypto::NodeIdentity& identity_;
    const std::string self_;
    const Clock& clock_;
    PeerNet& net_;
    ChunkStore chunks_;
    std::function<std::vector<MediaPeer>()> members_;
    RepairPacer repairs_;
    std::vector<std::unique_ptr<Worker>> workers_;  // last: stopped first
};

}  // namespace dhtalk
