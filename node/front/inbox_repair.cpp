// Repair (inbox_service.h): once the live members have stayed the same for
// an interval after a change, each node hands the messages it holds to the
// holders their recipients have now, so that a holder lost for good is
// replaced by the member next in the inbox's order, with the copies, and a
// stand-in that held for a holder that was down hands over and lets go.
#include <algorithm>

#include "dht/placement.h"
#include "node/front/inbox_service.h"

namespace dhtalk {

void InboxService::repair_later() {
    std::vector<std::string> live_names;
    for (const auto& m : members_ ? members_() : std::vector<InboxPeer>{})
        if (m.alive) live_names.push_back(m.node_id);
    const std::string live = RepairPacer::live_set(std::move(live_names));
    if (!repairs_.start(live)) return;
    const bool queued = worker_.post([this, live] {
        const RepairResult r = repair();
        repairs_.finished(live, r.complete, r.copies);
    });
    if (!queued) repairs_.abandoned();
}

InboxService::RepairResult InboxService::repair() {
    RepairResult result;
    const std::vector<InboxPeer> members = members_now();  // one list for the whole pass
    for (const auto& recipient : inbox_.recipients()) {
        auto held = inbox_.pending(recipient, SIZE_MAX);
        if (!held || held->empty()) continue;
        const Holders holders = holders_among(members, recipient, kInboxHolders);
        bool handed_over = true;  // every current holder other than this node took them all
        bool holder_here = false;
        for (const auto& peer : holders.live) {
            if (peer.node_id == self_) {
                holder_here = true;
                continue;
            }
            for (size_t at = 0; at < held->size();) {
                InboxRequest r;
                r.kind = InboxRequest::Kind::kHold;
                r.recipient = recipient;
                for (size_t bytes = 0; at < held->size() && r.messages.size() < kMaxInboxBatch; ++at) {
                    bytes += encoded_size_bound((*held)[at]) + 8;
                    if (!r.messages.empty() && bytes > kMaxHoldRequestBytes) break;
                    r.messages.push_back((*held)[at]);
                }
                const size_t offered = r.messages.size();
                auto reply = ask(peer, std::move(r));
                if (!reply || !reply->status()) {
                    handed_over = false;
                    result.complete = false;
                    if (!reply) break;  // not heard: the next repair tries again
                }
                if (reply) result.copies += offered - std::min(offered, reply->messages.size());
            }
        }
        // A stand-in whose inbox has its holders again lets go of its copies.
        if (!holder_here && handed_over && holders.live.size() >= holders.needed)
            for (const auto& m : *held) inbox_.acknowledge(recipient, m.sender, m.id).ignore_error();
    }
    return result;
}

}  // namespace dhtalk
