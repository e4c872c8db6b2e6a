#include "client/trusted_roster.h"

#include "crypto/signing.h"
#include "roster/roster_rules.h"

namespace dhtalk::client {

TrustedRoster::TrustedRoster(RosterEpoch current, uint32_t network_id)
    : current_(std::move(current)), network_id_(network_id) {}

Status TrustedRoster::load_members() {
    members_.clear();
    for (const auto& m : current_.members) {
        auto cert = crypto::parse_certificate(m.certificate);
        if (!cert) return Status::corruption("member " + m.node_id.substr(0, 8) + ": " + cert.status().message());
        members_[m.node_id] = {std::move(cert).value(), m.fast_key};
    }
    return Status::ok();
}

Result<TrustedRoster> TrustedRoster::from_chain(const std::vector<RosterEpoch>& chain,
                                                std::optional<uint32_t> network_id) {
    if (chain.empty()) return Status::invalid("an empty roster chain");
    DHTALK_TRY(verify_chain(chain, network_id));
    TrustedRoster r(chain.back(), network_id_of_genesis(chain.front()));
    DHTALK_TRY(r.load_members());
    return r;
}

Result<TrustedRoster> TrustedRoster::resume(std::string_view encoded_epoch, uint32_t network_id) {
    auto epoch = decode_roster_epoch(encoded_epoch);
    if (!epoch) return epoch.status();
    // The epoch names its network (the genesis by its own digest).
    const uint32_t own = epoch->epoch == 0 ? network_id_of_genesis(*epoch) : epoch->network_id;
    if (network_id && own != network_id) return Status::corruption("the kept roster is another network's");
    TrustedRoster r(std::move(epoch).value(), own);
    DHTALK_TRY(r.load_members());
    return r;
}

Status TrustedRoster::extend(const RosterEpoch& next) {
    DHTALK_TRY(verify_next(current_, next, network_id_));
    current_ = next;
    return load_members();
}

Result<std::string> TrustedRoster::member_for(const dht::crypto::Certificate& tls_certificate, WallTime now) const {
    auto info = crypto::inspect_tls_certificate(tls_certificate);
    if (!info) return Status::denied(info.status().message());
    auto it = members_.find(info->issuer_node_id);
    if (it == members_.end())
        return Status::denied("its certificate was issued by " + info->issuer_node_id.substr(0, 8) + ", not one of the " +
                              std::to_string(members_.size()) + " members of network '" + current_.settings.name +
                              "' (epoch " + std::to_string(current_.epoch) + ")");
    if (!crypto::signed_by(tls_certificate, *it->second.certificate))
        return Status::denied("its certificate is not signed by the member it names (" + it->first.substr(0, 8) + ")");
    const int64_t t = to_unix_seconds(now);
    if (t < info->not_before_s || t > info->not_after_s)
        return Status::denied("its certificate is not valid now (expired, or a clock far off)");
    return it->first;
}

Status TrustedRoster::check_user(const dht::crypto::Certificate& cert, const crypto::UserCertificateInfo& info,
                                 WallTime now) const {
    auto issuer = members_.find(info.issuer_node_id);
    if (issuer == members_.end())
        return Status::denied("user " + info.user_id + "'s certificate was issued by " + info.issuer_node_id.substr(0, 8) +
                              ", not a member of the network");
    DHTALK_TRY(crypto::check_user_certificate(info, network_id_, now));
    if (!crypto::issued_with_fast_key(cert, issuer->second.fast_key))
        return Status::denied("user " + info.user_id + "'s certificate is not signed by the member it names");
    return Status::ok();
}

}  // namespace dhtalk::client
