// The operator's side of the trusted network (the admin API): the roster and
// the open proposals, and this node's votes.
#include "node/trust/trusted_network.h"

namespace dhtalk {

Json::Value TrustedNetwork::pending_json() const {
    std::lock_guard lock(mutex_);
    Json::Value v(Json::objectValue);
    const auto& cur = roster_vote_.current();
    v["network_id"] = roster_vote_.network_id();
    v["network"] = cur.settings.name;
    v["epoch"] = Json::UInt64(cur.epoch);
    v["quorum"] = quorum_rule_name(cur.settings.quorum);
    v["members"] = Json::Value(Json::arrayValue);
    for (const auto& m : cur.members) {
        Json::Value mj(Json::objectValue);
        mj["node_id"] = m.node_id;
        mj["contact"] = m.contact;
        mj["endpoints"] = Json::Value(Json::arrayValue);
        for (const auto& e : m.endpoints) mj["endpoints"].append(e);
        const MemberAdvert& advert = member_updates_.of(m);
        mj["client_endpoints"] = Json::Value(Json::arrayValue);
        for (const auto& e : advert.client_endpoints) mj["client_endpoints"].append(e);
        mj["media_offer_mib"] = advert.media_offer_mib;
        v["members"].append(mj);
    }
    v["pending"] = Json::Value(Json::arrayValue);
    for (const auto& p : roster_vote_.proposals()) {
        Json::Value pj(Json::objectValue);
        pj["change"] = p.change == ChangeKind::kAdmit ? "admit" : "ban";
        pj["node_id"] = p.subject;
        pj["contact"] = p.contact;
        pj["needed"] = Json::UInt64(p.needed);
        pj["approvals"] = Json::Value(Json::arrayValue);
        for (const auto& a : p.approvals) pj["approvals"].append(a);
        pj["rejections"] = Json::Value(Json::arrayValue);
        for (const auto& r : p.rejections) pj["rejections"].append(r);
        v["pending"].append(pj);
    }
    return v;
}

Status TrustedNetwork::vote(ChangeKind change, const std::string& subject, Decision decision, std::string reason) {
    {
        std::lock_guard lock(mutex_);
        auto b = roster_vote_.cast(change, subject, decision, std::move(reason));
        if (!b) return b.status();
        DHTALK_TRY(roster_store_.save_ballot(*b));
        send_to_members("/v1/ballot", encode(*b));
        if (roster_vote_.dismissed(subject)) forget_gone_applications();
        assemble_if_due(false);
    }
    notify_if_adopted();
    return Status::ok();
}

}  // namespace dhtalk
