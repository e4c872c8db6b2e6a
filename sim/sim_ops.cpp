#include "sim/sim_ops.h"

#include <json/json.h>

#include "crypto/node_identity.h"
#include "crypto/signing.h"
#include "crypto/user_certificate.h"
#include "crypto/aead.h"
#include "node/node.h"
#include "node/trust/roster_builder.h"
#include "node/trust/roster_store.h"
#include "roster/roster_rules.h"

namespace dhtalk {

using namespace std::chrono;

Result<ClientFrame> sim_await(SimNodes& sim, size_t node, uint64_t session, uint64_t id, milliseconds limit) {
    std::optional<ClientFrame> reply;
    MemoryFront* front = sim.front(node);
    sim.network().run_until_true([&] { return front && (reply = front->reply(session, id)).has_value(); }, limit);
    if (!reply) return Status::timeout("no answer from node " + std::to_string(node));
    return std::move(*reply);
}

Result<ClientFrame> sim_call(SimNodes& sim, size_t node, uint64_t session, const std::string& method, FrameParams params,
                             milliseconds limit) {
    MemoryFront* front = sim.front(node);
    if (!front) return Status::unavailable("node " + std::to_string(node) + " is not running");
    const uint64_t id = front->request(session, method, std::move(params));
    if (id == 0) return Status::unavailable("no such session on node " + std::to_string(node));
    return sim_await(sim, node, session, id, limit);
}

std::string sim_node_id(const std::filesystem::path& identity_dir) {
    auto identity = crypto::load_or_create_identity(identity_dir);
    return identity ? identity->node_id_hex() : std::string();
}

Status sim_vote(SimNodes& sim, size_t member, const std::string& change, const std::string& subject_node_id) {
    Json::Value v;
    v["change"] = change;
    v["decision"] = "approve";
    v["node_id"] = subject_node_id;
    return sim.node(member)->admin_vote(v);
}

bool sim_is_member(SimNodes& sim, size_t i) {
    Node* n = sim.node(i);
    return n && n->trust()->standing() == TrustedNetwork::Standing::kMember && n->overlay();
}

Status sim_found(SimNodes& sim, size_t count, const NodeConfig& base, const std::vector<std::filesystem::path>& identities) {
    NodeConfig founder = base;
    founder.genesis = true;
    DHTALK_TRY(sim.start(0, founder));
    for (size_t k = 1; k < count; ++k) {
        NodeConfig applicant = base;
        applicant.apply = true;
        applicant.contact = "operator " + std::to_string(k);
        applicant.bootstrap = {sim.endpoint(0)};
        DHTALK_TRY(sim.start(k, applicant));
        // Every member approves once the application has reached it.
        const std::string applicant_id = sim_node_id(identities[k]);
        for (size_t m = 0; m < k; ++m) {
            const bool heard = sim.network().run_until_true(
                [&] {
                    auto pending = sim.node(m)->admin_pending();
                    return pending && (*pending)["pending"].toStyledString().find(applicant_id) != std::string::npos;
                },
                30s);
            // A member that missed it is outvoted or catches up: the
            // others' approvals carry it.
            if (heard) DHTALK_TRY(sim_vote(sim, m, "admit", applicant_id));
            if (sim_is_member(sim, k)) break;
        }
        if (!sim.network().run_until_true([&] { return sim_is_member(sim, k); }, 60s))
            return Status::timeout("node " + std::to_string(k) + " was not admitted");
        // A member approves one change per epoch: the next vote waits until
        // every member has the epoch that admitted this one.
        if (!sim_agree(sim, k + 1)) return Status::timeout("the members do not agree on the roster");
    }
    return Status::ok();
}

Status sim_found_prepared(SimNodes& sim, size_t count, const NodeConfig& base,
                          const std::vector<std::filesystem::path>& identities) {
    if (count == 0 || identities.size() < count) return Status::invalid("no identities to found a network with");
    if (count > kMaxMembers) return Status::invalid("a roster holds at most " + std::to_string(kMaxMembers) + " members");
    std::vector<crypto::NodeIdentity> ids;
    for (size_t i = 0; i < count; ++i) {
        auto id = crypto::load_or_create_identity(identities[i]);
        if (!id) return id.status();
        ids.push_back(std::move(id).value());
    }
    auto quorum = parse_quorum_rule(base.quorum);
    if (!quorum) return quorum.status();
    MemberAdvert advert;
    advert.media_offer_mib = base.media_offer_mib;  // each node announces its own at start
    auto contact = [](size_t i) { return "operator " + std::to_string(i); };
    auto genesis = make_genesis(ids[0], {base.network, *quorum, "kontalk-sha1"}, {sim.endpoint(0)}, contact(0),
                                crypto::random_key(), advert);
    if (!genesis) return genesis.status();
    std::vector<RosterEpoch> chain{std::move(genesis).value()};
    const uint32_t network = network_id_of_genesis(chain.front());
    for (size_t k = 1; k < count; ++k) {
        const std::string subject = ids[k].node_id_hex();
        std::vector<Ballot> ballots;
        for (size_t v = 0; v < approvals_needed(*quorum, k); ++v) {
            auto b = make_ballot(ids[v], network, chain.back().epoch, ChangeKind::kAdmit, subject, Decision::kApprove, "");
            if (!b) return b.status();
            ballots.push_back(std::move(b).value());
        }
        const Member admitted = member_of(ids[k], {sim.endpoint(k)}, contact(k), advert);
        auto next = assemble_next(chain.back(), network, ChangeKind::kAdmit, subject, &admitted, ballots, ids[0],
                                  crypto::random_key());
        if (!next) return next.status();
        chain.push_back(std::move(next).value());
    }
    for (size_t i = 0; i < count; ++i) {
        RosterStore roster(sim.store(i));
        for (const auto& e : chain) DHTALK_TRY(roster.save_epoch(e));
    }
    for (size_t i = 0; i < count; ++i) DHTALK_TRY(sim.start(i, base));
    if (!sim_agree(sim, count)) return Status::timeout("the members do not agree on the prepared roster");
    return Status::ok();
}

bool sim_agree(SimNodes& sim, size_t count) {
    return sim.network().run_until_true(
        [&] {
            for (size_t i = 0; i < count; ++i)
                if (sim.node(i)->trust()->epoch() != sim.node(0)->trust()->epoch()) return false;
            return true;
        },
        60s);
}

Result<SimUser> sim_register(SimNodes& sim, size_t node, const std::string& phone,
                             std::shared_ptr<dht::crypto::PrivateKey> key, const std::string& address) {
    MemoryFront* front = sim.front(node);
    if (!front) return Status::unavailable("node " + std::to_string(node) + " is not running");
    auto s = front->open(address, nullptr);
    if (!s) return s.status();
    auto registered = sim_call(sim, node, *s, "register", {{"phone", phone}});
    if (!registered) return registered.status();
    DHTALK_TRY(registered->status());
    SimUser u;
    auto id = registered->text("user_id", 64);
    if (!id) return id.status();
    u.user_id = *id;
    if (!sim.network().run_until_true([&] { return !sim.last_code(phone).empty(); }, 30s))
        return Status::timeout("no code was sent to " + phone);
    auto csr = crypto::make_certificate_request(*key, u.user_id);
    if (!csr) return csr.status();
    auto verified = sim_call(sim, node, *s, "verify", {{"phone", phone}, {"code", sim.last_code(phone)}, {"csr", *csr}});
    if (!verified) return verified.status();
    DHTALK_TRY(verified->status());
    auto pem = verified->text("certificate", crypto::kMaxCertificateBytes);
    if (!pem) return pem.status();
    auto cert = crypto::parse_certificate(*pem);
    if (!cert) return cert.status();
    u.certificate = std::move(cert).value();
    auto info = crypto::inspect_user_certificate(*u.certificate);
    if (!info) return info.status();
    u.device_id = info->device_id;
    u.key = std::move(key);
    sim.front(node)->close(*s);
    return u;
}

Result<uint64_t> sim_login(SimNodes& sim, size_t node, const SimUser& user, const std::string& address) {
    MemoryFront* front = sim.front(node);
    if (!front) return Status::unavailable("node " + std::to_string(node) + " is not running");
    auto s = front->open(address, user.certificate);
    if (!s) return s.status();
    auto given = sim_call(sim, node, *s, "privacy.set",
                          {{"allow_only", false}, {"blocked", std::vector<std::string>{}}, {"allowed", std::vector<std::string>{}}});
    if (!given) return given.status();
    DHTALK_TRY(given->status());
    return s;
}

}  // namespace dhtalk
