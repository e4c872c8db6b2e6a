#include "node/trust/member_updates.h"

#include "common/log.h"
#include "node/trust/roster_builder.h"
#include "roster/roster_rules.h"

namespace dhtalk {

void MemberUpdates::load(const RosterEpoch& current, uint32_t network_id) {
    auto stored = store_.load_member_updates();
    if (!stored) {
        DHTALK_LOG(kWarning, "trust", "cannot read the stored member updates: " << stored.status().message());
        return;
    }
    for (const auto& u : *stored) {
        if (Status st = verify_member_update(u, network_id, current); !st) {
            store_.erase_member_update(u.node_id).ignore_error();
            continue;
        }
        updates_[u.node_id] = u;
    }
}

Status MemberUpdates::offer(const MemberUpdate& u, const RosterEpoch& current, uint32_t network_id) {
    DHTALK_TRY(verify_member_update(u, network_id, current));
    auto held = updates_.find(u.node_id);
    // The same update again (members send theirs now and then): nothing to do.
    if (held != updates_.end() && held->second.serial == u.serial && held->second.signature == u.signature)
        return Status::ok();
    if (held != updates_.end() && held->second.serial >= u.serial)
        return Status{Code::kAlreadyExists, "a newer member update of this member is held"};
    DHTALK_TRY(store_.save_member_update(u));
    updates_[u.node_id] = u;
    return Status::ok();
}

void MemberUpdates::follow(const RosterEpoch& current) {
    for (auto it = updates_.begin(); it != updates_.end();) {
        if (current.member(it->first)) {
            ++it;
            continue;
        }
        store_.erase_member_update(it->first).ignore_error();
        it = updates_.erase(it);
    }
}

Result<std::optional<std::string>> MemberUpdates::set_own(const MemberAdvert& wanted,
                                                            const RosterEpoch& current, uint32_t network_id,
                                                            uint64_t now_ms) {
    const Member* self = current.member(identity_.node_id_hex());
    if (!self || of(*self) == wanted) return std::optional<std::string>();
    uint64_t serial = now_ms;
    if (auto held = updates_.find(self->node_id); held != updates_.end() && held->second.serial >= serial)
        serial = held->second.serial + 1;  // a clock set back still moves forward
    auto u = make_member_update(identity_, network_id, serial, wanted);
    if (!u) return u.status();
    DHTALK_TRY(offer(*u, current, network_id));
    return std::optional<std::string>(encode(*u));
}

std::optional<std::string> MemberUpdates::own_update() const {
    auto it = updates_.find(identity_.node_id_hex());
    if (it == updates_.end()) return std::nullopt;
    return encode(it->second);
}

const MemberAdvert& MemberUpdates::of(const Member& m) const {
    auto it = updates_.find(m.node_id);
    return it == updates_.end() ? m.advert : it->second.advert;
}

std::vector<std::string> MemberUpdates::encoded_updates() const {
    std::vector<std::string> out;
    for (const auto& [id, u] : updates_) out.push_back(encode(u));
    return out;
}

}  // namespace dhtalk
