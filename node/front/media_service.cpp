#include "node/front/media_service.h"

#include <algorithm>

#include "common/log.h"
#include "crypto/fast_key.h"
#include "crypto/signing.h"
#include "dht/placement.h"
#include "node/front/member_request.h"

namespace dhtalk {

using namespace std::chrono;

namespace {

constexpr const char* kMediaPath = "/v1/media";
// A download asks this many members at most, in the chunk's order: its
// holders, and those that stood in for one that was down or full.
constexpr size_t kFetchFrom = 2 * kChunkHolders + 2;

}  // namespace

MediaService::MediaService(MediaConfig config, const crypto::NodeIdentity& identity, Store& store, const Clock& clock,
                           Drivers& drivers, PeerNet& net)
    : config_(std::move(config)),
      identity_(identity),
      self_(identity.node_id_hex()),
      clock_(clock),
      net_(net),
      chunks_(store, config_.limits) {
    for (size_t i = 0; i < std::max<size_t>(config_.workers, 1); ++i)
        workers_.push_back(std::make_unique<Worker>(drivers, "media-" + std::to_string(i), config_.max_queued));
}

void MediaService::stop() {
    for (auto& w : workers_) w->stop();
}

MediaService::Holders MediaService::holders_of(const std::string& chunk_id) const {
    std::vector<MediaPeer> members = members_ ? members_() : std::vector<MediaPeer>{};
    if (members.empty())
        return {{MediaPeer{self_, "", "", true, static_cast<uint32_t>(config_.limits.offer_bytes >> 20)}}, 1};
    std::vector<std::pair<std::string, double>> weights;
    for (const auto& m : members) weights.emplace_back(m.node_id, static_cast<double>(m.offer_mib));
    Holders h;
    const auto ranked = rank_weighted("media", chunk_id, weights);
    h.needed = std::max<size_t>(1, std::min(ranked.size(), kChunkHolders));
    for (const auto& id : ranked) {
        const auto& m = *std::find_if(members.begin(), members.end(), [&](const MediaPeer& p) { return p.node_id == id; });
        if (m.alive || m.node_id == self_) h.live.push_back(m);  // this node, running, is alive
    }
    return h;
}

bool MediaService::post(const std::string& chunk_id, std::function<void()> job,
                        const std::function<void(Status)>& refused) {
    // One chunk's work always on the same worker: a retry waits for the first try.
    const size_t i = std::hash<std::string>{}(chunk_id) % workers_.size();
    if (workers_[i]->post(std::move(job))) return true;
    refused(Status::busy("this node is moving too many media chunks: try again shortly"));
    return false;
}

Status MediaService::hold_here(const std::string& chunk_id, const std::string& owner, int64_t expires_s,
                               std::string_view bytes) {
    auto held = chunks_.hold(chunk_id, owner, expires_s, bytes);
    if (!held) return held.status();
    if (*held == ChunkStore::Held::kNew) DHTALK_TRY(chunks_.sync());  // "held" means on disk
    return Status::ok();
}

void MediaService::put(std::string chunk_id, std::string owner, std::string bytes, Done done) {
    // Refused here, before any holder is asked (each checks it again).
    if (Status st = check_chunk(chunk_id, bytes); !st) return done(st);
    const int64_t expires_s = to_unix_seconds(clock_.wall_now()) + config_.ttl.count();
    auto job = [this, chunk_id, owner, bytes = std::move(bytes), expires_s, done] {
        const Holders h = holders_of(chunk_id);
        size_t held = 0;
        Status last = Status::unavailable("no holder of this chunk can be reached");
        for (const auto& peer : h.live) {
            if (held == h.needed) break;
            Status st;
            if (peer.node_id == self_) {
                st = hold_here(chunk_id, owner, expires_s, bytes);
            } else {
                MediaRequest r;
                r.kind = MediaRequest::Kind::kHold;
                r.chunk_id = chunk_id;
                r.owner = owner;
                r.expires_s = expires_s;
                r.bytes = bytes;
                auto a = ask(peer, std::move(r));
                st = a ? a->status() : a.status();
            }
            if (st) ++held;
            else last = st;  // full, over the quota, or away: the next in order stands in
        }
        done(held == h.needed ? Status::ok() : last);
    };
    post(chunk_id, std::move(job), done);
}

void MediaService::get(std::string chunk_id, Fetched done) {
    if (!is_chunk_id(chunk_id)) return done(Status::invalid("a chunk id is the 64 hex digits of its SHA-256"));
    if (auto here = chunks_.get(chunk_id)) return done(std::move(here).value());
    auto job = [this, chunk_id, done] {
        const Holders h = holders_of(chunk_id);
        Status last = Status::not_found("no holder that answers has this chunk (expired, or never uploaded)");
        size_t asked = 0;
        for (const auto& peer : h.live) {
            if (peer.node_id == self_) continue;  // looked at already
            if (++asked > kFetchFrom) break;
            MediaRequest r;
            r.kind = MediaRequest::Kind::kFetch;
            r.chunk_id = chunk_id;
            auto a = ask(peer, std::move(r));
            if (!a) {
                last = a.status();
                continue;
            }
            if (a->code == Code::kNotFound) continue;
            if (Status st = a->status(); !st) {
                last = st;
                continue;
            }
            if (crypto::to_hex(crypto::sha256(a->bytes)) != chunk_id) {
                DHTALK_LOG(kWarning, "media", "holder " << peer.node_id.substr(0, 8) << " sent a forged chunk");
                continue;
            }
            return done(std::move(a->bytes));
        }
        done(last);
    };
    post(chunk_id, std::move(job), [done](const Status& s) { done(s); });
}

size_t MediaService::expire() { return chunks_.expire(to_unix_seconds(clock_.wall_now())); }

Result<MediaAnswer> MediaService::ask(const MediaPeer& peer, MediaRequest r) {
    return ask_member({net_, identity_, config_.network_id, clock_.wall_now(), kMediaPath, kMaxMediaPeerBytes},
                      {peer.node_id, peer.endpoint, peer.fast_key, "media holder " + peer.node_id.substr(0, 8)},
                      std::move(r), decode_media_answer);
}

Result<std::string> MediaService::on_media_request(std::string_view bytes) {
    auto r = decode_media_request(bytes);
    if (!r) return r.status();
    std::string fast_key;
    if (members_)
        for (const auto& m : members_())
            if (m.node_id == r->from) fast_key = m.fast_key;
    DHTALK_TRY(check_member_request({"a media request", r->network_id, r->from, r->to, r->sent_ms, body_of(*r), r->signature},
                                    {config_.network_id, self_, fast_key, clock_.wall_now(), config_.max_skew}));
    MediaAnswer a;
    a.network_id = config_.network_id;
    a.from = self_;
    a.request_digest = crypto::sha256(bytes);
    Status answer;
    switch (r->kind) {
    case MediaRequest::Kind::kHold: {
        // No member keeps a chunk here past the network's time to live.
        const int64_t latest = to_unix_seconds(clock_.wall_now()) + config_.ttl.count() + config_.max_skew.count();
        answer = hold_here(r->chunk_id, r->owner, std::min(r->expires_s, latest), r->bytes);
        break;
    }
    case MediaRequest::Kind::kFetch:
        if (auto found = chunks_.get(r->chunk_id)) a.bytes = std::move(found).value();
        else answer = found.status();
        break;
    case MediaRequest::Kind::kHas:
        if (!chunks_.has(r->chunk_id)) answer = Status::not_found("not held here");
        break;
    }
    a.code = answer.code();
    a.message = answer.message().substr(0, 256);
    auto signature = crypto::sign(*identity_.fast_key, body_of(a));
    if (!signature) return signature.status();
    a.signature = std::move(signature).value();
    return encode(a);
}

}  // namespace dhtalk
