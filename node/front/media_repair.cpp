// Repair (media_service.h): once the live members have stayed the same for
// an interval after a change, each node makes sure every chunk it holds is
// held by the holders the chunk has now (the first kChunkHolders live
// members in its weighted order), so that a holder lost for good is
// replaced by the member next in that order, with the copy, and a
// stand-in that held for a holder that was down lets go once they have it.
#include <algorithm>
#include <optional>

#include "node/front/media_service.h"

namespace dhtalk {

void MediaService::repair_later() {
    // The live members and their offers: a member lost or back, or an
    // offer changed, starts a repair.
    std::vector<std::string> live_names;
    for (const auto& m : members_ ? members_() : std::vector<MediaPeer>{})
        if (m.alive) live_names.push_back(m.node_id + ":" + std::to_string(m.offer_mib));
    const std::string live = RepairPacer::live_set(std::move(live_names));
    if (!repairs_.start(live)) return;
    const bool queued = workers_.front()->post([this, live] {
        const RepairResult r = repair();
        repairs_.finished(live, r.complete, r.copies);
    });
    if (!queued) repairs_.abandoned();
}

MediaService::RepairResult MediaService::repair() {
    RepairResult result;
    for (const auto& chunk : chunks_.list()) {
        const Holders holders = holders_of(chunk.id);
        bool holder_here = false;
        size_t holding = 0;  // of the chunk's holders now, those known to have it
        std::optional<std::string> bytes;
        for (size_t i = 0; i < holders.live.size() && i < holders.needed; ++i) {
            const MediaPeer& peer = holders.live[i];
            if (peer.node_id == self_) {
                holder_here = true;
                ++holding;
                continue;
            }
            MediaRequest has;
            has.kind = MediaRequest::Kind::kHas;
            has.chunk_id = chunk.id;
            auto answer = ask(peer, std::move(has));
            if (!answer) {
                result.complete = false;  // not heard: the next repair tries again
                continue;
            }
            if (answer->code != Code::kNotFound) {
                if (answer->status()) ++holding;
                continue;
            }
            if (!bytes) {
                auto read = chunks_.get(chunk.id);
                if (!read) break;  // expired meanwhile
                bytes = std::move(read).value();
            }
            MediaRequest hold;
            hold.kind = MediaRequest::Kind::kHold;
            hold.chunk_id = chunk.id;
            hold.owner = chunk.owner;
            hold.expires_s = chunk.expires_s;
            hold.bytes = *bytes;
            auto took = ask(peer, std::move(hold));
            if (took && took->status()) {
                ++holding;
                ++result.copies;
            } else {
                result.complete = false;
            }
        }
        // A stand-in whose chunk has all its holders again lets go of its copy.
        if (!holder_here && holding >= holders.needed && chunks_.erase(chunk.id)) ++result.released;
    }
    return result;
}

}  // namespace dhtalk
