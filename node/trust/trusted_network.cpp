#include "node/trust/trusted_network.h"

#include <algorithm>

#include "common/address_bucket.h"
#include "common/host_port.h"
#include "common/log.h"
#include "crypto/aead.h"
#include "crypto/signing.h"
#include "node/trust/roster_builder.h"
#include "roster/roster_rules.h"

namespace dhtalk {
namespace {

// Every epoch a member at `endpoint` holds from `from` on, page by page.
// At most this many epochs per catch-up; the rest comes with the next one.
constexpr size_t kMaxEpochsPerCatchUp = 16 * kMaxEpochsPerAnswer;
// How far back the point where another branch parted from ours is looked
// for: rivals come from members assembling at once, a few epochs apart.
constexpr uint64_t kMaxRivalDepth = 8;

// The epochs a member at `endpoint` holds from `from` on, page by page,
// each numbered as asked. `stop` ends it between pages.
Result<std::vector<RosterEpoch>> fetch_epochs(PeerNet& net, const std::string& endpoint, uint64_t from,
                                              const std::atomic<bool>& stop) {
    std::vector<RosterEpoch> out;
    while (out.size() < kMaxEpochsPerCatchUp) {
        if (stop) return Status::unavailable("stopping");
        auto page = fetch_roster(net, endpoint, from + out.size());
        if (!page) return page.status();
        for (const auto& doc : *page) {
            auto e = decode_roster_epoch(doc);
            if (!e) return Status::invalid(endpoint + " sent a malformed epoch: " + e.status().message());
            if (e->epoch != from + out.size()) return Status::invalid(endpoint + " sent epochs out of order");
            out.push_back(std::move(e).value());
        }
        if (page->size() < kMaxEpochsPerAnswer) break;
    }
    return out;
}

}  // namespace

size_t gossip_fanout(size_t peers) {
    size_t log2 = 0;
    while ((size_t{1} << log2) < peers + 1) log2++;
    return std::min(peers, log2 + 2);
}

const char* standing_name(TrustedNetwork::Standing s) {
    switch (s) {
    case TrustedNetwork::Standing::kMember: return "member";
    case TrustedNetwork::Standing::kApplicant: return "applicant";
    case TrustedNetwork::Standing::kBanned: return "banned";
    }
    return "?";
}

Result<std::unique_ptr<TrustedNetwork>> TrustedNetwork::open(const TrustConfig& config, Store& store,
                                                             const crypto::NodeIdentity& identity, const Clock& clock,
                                                             Drivers& drivers, PeerNet& net, uint64_t seed) {
    RosterStore roster(store);
    auto chain = roster.load_chain();
    if (!chain) return chain.status();
    if (chain->empty()) {
        if (config.genesis) {
            auto g = make_genesis(identity, config.settings, {config.endpoint}, config.contact, crypto::random_key(),
                                  config.advert);
            if (!g) return g.status();
            DHTALK_TRY(roster.save_epoch(*g));
            DHTALK_LOG(kInfo, "trust", "founded network '" << config.settings.name << "' (id "
                                                            << network_id_of_genesis(*g) << ", quorum "
                                                            << quorum_rule_name(config.settings.quorum) << ")");
            chain->push_back(std::move(g).value());
        } else if (config.apply) {
            const std::atomic<bool> never{false};
            Status last = Status::invalid("no --bootstrap node to apply through");
            for (const auto& b : config.bootstrap) {
                auto fetched = fetch_epochs(net, b, 0, never);
                if (fetched && !fetched->empty()) {
                    *chain = std::move(fetched).value();
                    break;
                }
                last = fetched ? Status::unavailable(b + " holds no roster") : fetched.status();
            }
            if (chain->empty()) return Status::unavailable("cannot fetch the network's roster: " + last.message());
            DHTALK_TRY(verify_chain(*chain, std::nullopt));
            for (const auto& e : *chain) DHTALK_TRY(roster.save_epoch(e));
        } else {
            return Status::not_found("this node belongs to no network yet");
        }
    } else if (config.genesis) {
        DHTALK_LOG(kWarning, "trust", "the data directory already holds a network; --genesis ignored");
    }
    auto roster_vote = RosterVote::create(std::move(chain).value(), identity);
    if (!roster_vote) return Status::corruption("the stored roster does not verify: " + roster_vote.status().message());
    std::unique_ptr<TrustedNetwork> t(new TrustedNetwork(config, store, identity, clock, drivers, net, seed,
                                                          std::move(roster_vote).value()));
    // Restore what was pending; anything that no longer verifies is dropped.
    if (auto apps = t->roster_store_.load_applications())
        for (const auto& a : *apps)
            t->roster_vote_.offer_application(a, to_unix_seconds(clock.wall_now())).ignore_error();
    if (auto ballots = t->roster_store_.load_ballots())
        for (const auto& b : *ballots) t->roster_vote_.offer_ballot(b).ignore_error();
    t->forget_gone_applications();  // expired or dismissed while the node was down
    t->member_updates_.load(t->roster_vote_.current(), t->roster_vote_.network_id());
    return t;
}

TrustedNetwork::TrustedNetwork(const TrustConfig& config, Store& store, const crypto::NodeIdentity& identity,
                               const Clock& clock, Drivers& drivers, PeerNet& net, uint64_t seed,
                               RosterVote roster_vote)
    : config_(config),
      roster_store_(store),
      identity_(identity),
      clock_(clock),
      roster_vote_(std::move(roster_vote)),
      member_updates_(roster_store_, identity),
      advert_(config.advert),
      rng_(seed),
      net_(net),
      courier_(drivers, net),
      catch_up_worker_(drivers, "catch-up", 1) {}

TrustedNetwork::~TrustedNetwork() { stop(); }

void TrustedNetwork::stop() {
    stopping_ = true;
    catch_up_worker_.stop();
}

TrustedNetwork::Standing TrustedNetwork::standing() const {
    std::lock_guard lock(mutex_);
    if (roster_vote_.is_member()) return Standing::kMember;
    const auto& revoked = roster_vote_.current().revoked;
    if (std::binary_search(revoked.begin(), revoked.end(), identity_.node_id_hex())) return Standing::kBanned;
    return Standing::kApplicant;
}

uint32_t TrustedNetwork::network_id() const {
    std::lock_guard lock(mutex_);
    return roster_vote_.network_id();
}

uint64_t TrustedNetwork::epoch() const {
    std::lock_guard lock(mutex_);
    return roster_vote_.current().epoch;
}

size_t TrustedNetwork::member_count() const {
    std::lock_guard lock(mutex_);
    return roster_vote_.current().members.size();
}

size_t TrustedNetwork::pending_count() const {
    std::lock_guard lock(mutex_);
    return roster_vote_.proposals().size();
}

std::string TrustedNetwork::network_name() const {
    std::lock_guard lock(mutex_);
    return roster_vote_.current().settings.name;
}

std::optional<EpochKey> TrustedNetwork::epoch_key() const {
    std::lock_guard lock(mutex_);
    auto key = open_epoch_key(roster_vote_.current(), identity_);
    if (!key) return std::nullopt;
    return EpochKey{static_cast<uint32_t>(roster_vote_.current().epoch), *key};
}

std::vector<Member> TrustedNetwork::members() const {
    std::lock_guard lock(mutex_);
    return roster_vote_.current().members;
}

std::vector<std::string> TrustedNetwork::peer_endpoints() const {
    std::lock_guard lock(mutex_);
    std::vector<std::string> out;
    for (const auto& m : roster_vote_.current().members)
        if (m.node_id != identity_.node_id_hex()) out.insert(out.end(), m.endpoints.begin(), m.endpoints.end());
    return out;
}

void TrustedNetwork::advertise(MemberAdvert advert) {
    std::lock_guard lock(mutex_);
    advert_ = std::move(advert);
    publish_own_update(nullptr);
}

std::map<std::string, MemberAdvert> TrustedNetwork::adverts() const {
    std::lock_guard lock(mutex_);
    std::map<std::string, MemberAdvert> out;
    for (const auto& m : roster_vote_.current().members) out[m.node_id] = member_updates_.of(m);
    return out;
}

std::vector<std::string> TrustedNetwork::member_updates() const {
    std::lock_guard lock(mutex_);
    return member_updates_.encoded_updates();
}

Status TrustedNetwork::on_member_update(std::string_view doc) {
    auto u = decode_member_update(doc);
    if (!u) return u.status();
    std::lock_guard lock(mutex_);
    return member_updates_.offer(*u, roster_vote_.current(), roster_vote_.network_id());
}

void TrustedNetwork::publish_own_update(const RosterEpoch* prev) {
    const RosterEpoch& current = roster_vote_.current();
    if (!current.member(identity_.node_id_hex())) return;
    auto made = member_updates_.set_own(advert_, current, roster_vote_.network_id(),
                                          static_cast<uint64_t>(to_unix_millis(clock_.wall_now())));
    if (!made) {
        DHTALK_LOG(kError, "trust", "cannot sign this node's member update: " << made.status().message());
        return;
    }
    if (*made) return send_to_members("/v1/member-update", **made);
    auto held = member_updates_.own_update();
    if (!held) return;  // the roster lists this node's advert as it is
    if (!prev) return send_to_members("/v1/member-update", *held);
    for (const auto& m : current.members)
        if (m.node_id != identity_.node_id_hex() && !prev->member(m.node_id))
            for (const auto& e : m.endpoints) courier_.send(e, "/v1/member-update", *held);
}

void TrustedNetwork::send_to_members(const std::string& path, const std::string& doc, const std::string& origin) {
    for (const auto& m : roster_vote_.current().members)
        if (m.node_id != identity_.node_id_hex())
            for (const auto& e : m.endpoints) courier_.send(e, path, doc, origin);
}

void TrustedNetwork::pass_on(const std::string& path, const std::string& doc, const std::string& origin) {
    if (config_.relay_to_all) return send_to_members(path, doc, origin);
    std::vector<const Member*> others;
    for (const auto& m : roster_vote_.current().members)
        if (m.node_id != identity_.node_id_hex()) others.push_back(&m);
    const size_t k = gossip_fanout(others.size());
    for (size_t i = 0; i < k; ++i) {  // k distinct members, chosen at random
        std::swap(others[i], others[i + rng_.uniform(others.size() - i)]);
        for (const auto& e : others[i]->endpoints) courier_.send(e, path, doc, origin);
    }
}

void TrustedNetwork::forget_gone_applications() {
    const auto& held = roster_vote_.applications();
    std::erase_if(application_origin_, [&](const auto& entry) { return !held.count(entry.first); });
    if (auto stored = roster_store_.load_applications())
        for (const auto& a : *stored)
            if (!held.count(a.applicant.node_id)) roster_store_.erase_application(a.applicant.node_id).ignore_error();
}

std::string TrustedNetwork::origin_of(const PeerRequest& from) const {
    // Another member passing an application on names where it first came
    // from; anyone else is the origin itself. Members are recognised by the
    // address they advertise (as written there: a host name never matches).
    const std::string address = address_bucket(from.address);
    if (!from.origin.empty() && from.origin.size() <= 64)
        for (const auto& m : roster_vote_.current().members)
            if (m.node_id != identity_.node_id_hex())
                for (const auto& e : m.endpoints)
                    if (auto hp = parse_host_port(e); hp && address_bucket(hp->first) == address)
                        return address_bucket(from.origin);
    return address;
}

Status TrustedNetwork::adopt(const RosterEpoch& next) {
    const RosterEpoch prev = roster_vote_.current();
    const bool rival_welcome = clock_.now() - adopted_at_ < config_.rival_window;
    if (Status offered = roster_vote_.offer_epoch(next, rival_welcome); !offered) {
        if (offered.code() == Code::kCorruption)
            DHTALK_LOG(kError, "trust", "refusing roster epoch " << next.epoch << " assembled by " << next.assembler.substr(0, 8)
                                                                 << ": " << offered.message()
                                                                 << "; staying on epoch " << prev.epoch
                                                                 << " and asking the other members");
        return offered;
    }
    adopted(prev);
    return Status::ok();
}

void TrustedNetwork::adopted(const RosterEpoch& prev) {
    const RosterEpoch& next = roster_vote_.current();
    adopted_at_ = clock_.now();
    Status saved = roster_store_.save_epoch(next);
    if (!saved) DHTALK_LOG(kError, "trust", "cannot store roster epoch " << next.epoch << ": " << saved.message());
    roster_store_.forget_ballots_before(next.epoch).ignore_error();  // stale ballots only cost space
    forget_gone_applications();  // the admitted node's, and any the epoch made moot
    member_updates_.follow(next);
    publish_own_update(&prev);  // an admitted member learns where others moved
    const std::string doc = encode(next);
    // Its assembler sends it to every member; the others pass it on.
    if (next.assembler == identity_.node_id_hex()) send_to_members("/v1/epoch", doc);
    else pass_on("/v1/epoch", doc);
    // The subject hears it from every adopter: an admitted node is waiting
    // for it, and a banned one, no longer a member, should learn it is out.
    const Member* subject = next.change == ChangeKind::kBan ? prev.member(next.subject) : next.member(next.subject);
    if (subject && !(config_.relay_to_all && next.change == ChangeKind::kAdmit))
        for (const auto& e : subject->endpoints) courier_.send(e, "/v1/epoch", doc);
    DHTALK_LOG(kInfo, "trust", "adopted roster epoch " << next.epoch << ": "
                                                        << (next.change == ChangeKind::kAdmit ? "admitted " : "banned ")
                                                        << next.subject.substr(0, 8) << ", " << next.members.size()
                                                        << " members");
    adopted_ = true;
    quorum_since_.reset();
    // Ballots that arrived before this epoch did.
    std::vector<std::string> waiting;
    waiting.swap(future_ballots_);
    for (auto& early : waiting) {
        auto b = decode_ballot(early);
        if (!b || b->epoch > next.epoch) {
            if (b) future_ballots_.push_back(std::move(early));
            continue;
        }
        if (roster_vote_.offer_ballot(*b)) roster_store_.save_ballot(*b).ignore_error();  // counted; persisting is best effort
    }
}

void TrustedNetwork::assemble_if_due(bool any_member) {
    auto next = roster_vote_.assemble(crypto::random_key(), any_member);
    if (!next) return;
    if (!*next) {
        DHTALK_LOG(kError, "trust", "cannot assemble the next epoch: " << next->status().message());
        return;
    }
    adopt(**next).ignore_error();  // it was verified while being assembled
}

void TrustedNetwork::notify_if_adopted() {
    if (adopted_.exchange(false) && on_adopted_) on_adopted_();
}

Status TrustedNetwork::on_application(std::string_view doc, const PeerRequest& from) {
    auto a = decode_application(doc);
    if (!a) return a.status();
    {
        std::lock_guard lock(mutex_);
        const std::string origin = origin_of(from);
        const std::string& id = a->applicant.node_id;
        if (!roster_vote_.applications().count(id)) {
            size_t held = 0;
            for (const auto& [other, o] : application_origin_) held += o == origin;
            if (held >= kMaxApplicationsPerOrigin)
                return Status::busy(std::to_string(held) + " applications from " + origin + " are pending already");
        }
        DHTALK_TRY(roster_vote_.offer_application(*a, to_unix_seconds(clock_.wall_now())));
        DHTALK_TRY(roster_store_.save_application(*a));
        application_origin_.emplace(id, origin);  // the first origin stays
        pass_on("/v1/apply", std::string(doc), origin);
    }
    DHTALK_LOG(kInfo, "trust", "application from " << a->applicant.node_id.substr(0, 8) << " ("
                                                   << a->applicant.contact << ")");
    return Status::ok();
}

Status TrustedNetwork::on_ballot(std::string_view doc) {
    auto b = decode_ballot(doc);
    if (!b) return b.status();
    {
        std::lock_guard lock(mutex_);
        if (b->epoch > roster_vote_.current().epoch) {
            // We are behind: catch up soon. A ballot for the very next epoch
            // is kept for it if a current member signed it (members mostly
            // stay members), once per voter; nothing else is held unverified.
            next_work_ = {};
            start_catch_up();
            if (b->epoch != roster_vote_.current().epoch + 1)
                return Status::busy("ballot for epoch " + std::to_string(b->epoch) + ": this node is catching up");
            const Member* voter = roster_vote_.current().member(b->voter);
            if (!voter) return Status::invalid("a ballot for a later epoch from " + b->voter.substr(0, 8) + ", not a member");
            auto cert = crypto::parse_certificate(voter->certificate);
            if (!cert || !crypto::verify(**cert, body_of(*b), b->signature))
                return Status::invalid("a ballot for a later epoch whose signature does not verify");
            size_t from_voter = 0;
            for (const auto& held : future_ballots_) {
                auto h = decode_ballot(held);
                if (h && h->voter == b->voter) from_voter++;
            }
            if (from_voter >= kMaxFutureBallotsPerVoter)
                return Status::busy("ballots for the next epoch from " + b->voter.substr(0, 8) + " are held already");
            future_ballots_.emplace_back(doc);
            return Status::busy("ballot for epoch " + std::to_string(b->epoch) + " kept until this node catches up");
        }
        DHTALK_TRY(roster_vote_.offer_ballot(*b));
        DHTALK_TRY(roster_store_.save_ballot(*b));
        pass_on("/v1/ballot", std::string(doc));
        if (roster_vote_.dismissed(b->subject)) forget_gone_applications();
        assemble_if_due(false);
    }
    notify_if_adopted();
    return Status::ok();
}

Status TrustedNetwork::on_epoch(std::string_view doc) {
    auto e = decode_roster_epoch(doc);
    if (!e) return e.status();
    {
        std::lock_guard lock(mutex_);
        if (e->epoch > roster_vote_.current().epoch + 1) {
            next_work_ = {};
            start_catch_up();
            return Status::busy("epoch " + std::to_string(e->epoch) + " is ahead of ours; catching up first");
        }
        Status adopted_here = adopt(*e);
        if (!adopted_here) {
            // A rival of our young current epoch that does not share our
            // previous one: the two branches parted earlier. Its assembler
            // holds its branch; it is fetched off this thread, from where
            // our roster says that member is (the document is not checked
            // yet: it must not choose whom this node asks).
            const RosterEpoch& current = roster_vote_.current();
            const RosterEpoch* previous = roster_vote_.previous();
            const Member* assembler = current.member(e->assembler);
            if (e->epoch == current.epoch && previous && e->prev_hash != hash_of(*previous) &&
                clock_.now() - adopted_at_ < config_.rival_window && assembler &&
                !assembler->endpoints.empty() && assembler->node_id != identity_.node_id_hex())
                static_cast<void>(catch_up_worker_.post(
                    [this, source = assembler->endpoints.front()] { take_branch(source); }));
            return adopted_here;
        }
    }
    notify_if_adopted();
    return Status::ok();
}

std::vector<std::string> TrustedNetwork::epochs_from(uint64_t from, size_t max) {
    std::lock_guard lock(mutex_);
    std::vector<std::string> out;
    const uint64_t head = roster_vote_.current().epoch;
    // The epochs before the head as stored: adopting one saves it under this lock.
    for (uint64_t e = from; e < head && out.size() < max; ++e) {
        auto stored = roster_store_.load_encoded_epoch(e);
        if (!stored) {
            DHTALK_LOG(kError, "trust", "cannot read roster epoch " << e << " from the store: " << stored.status().message());
            return out;
        }
        out.push_back(std::move(stored).value());
    }
    if (from <= head && out.size() < max) out.push_back(encode(roster_vote_.current()));
    return out;
}

void TrustedNetwork::start_catch_up() {
    // One round runs and at most one waits (the worker's bound): a request
    // that comes while a round is fetching (a ballot from ahead) may need
    // epochs that round asked for too early, so it queues the next round;
    // requests while one waits are that round. Refused only then, or after
    // stop(): nothing is lost.
    static_cast<void>(catch_up_worker_.post([this] {
        catch_up();
        notify_if_adopted();
    }));
}

void TrustedNetwork::catch_up() {
    std::vector<std::string> sources = peer_endpoints();
    sources.insert(sources.end(), config_.bootstrap.begin(), config_.bootstrap.end());
    if (sources.empty()) return;
    size_t pick;
    {
        std::lock_guard lock(mutex_);
        pick = static_cast<size_t>(rng_.uniform(sources.size()));
    }
    const std::string& source = sources[pick];
    auto fetched = fetch_epochs(net_, source, epoch() + 1, stopping_);
    if (!fetched) {
        DHTALK_LOG(kDebug, "trust", "catch-up from " << source << ": " << fetched.status().message());
        return;
    }
    bool forked = false;
    {
        std::lock_guard lock(mutex_);
        forked = !fetched->empty() && fetched->front().epoch == roster_vote_.current().epoch + 1 &&
                 fetched->front().prev_hash != hash_of(roster_vote_.current());
    }
    // The network went on from a branch that parted from this node's: fetch
    // it back to where the two part, and take it.
    if (forked) return take_branch(source);
    std::lock_guard lock(mutex_);
    for (const auto& e : *fetched) {
        if (e.epoch <= roster_vote_.current().epoch) continue;
        Status s = adopt(e);
        if (!s) {
            DHTALK_LOG(kWarning, "trust", "epoch " << e.epoch << " from " << source << " refused: " << s.message());
            return;
        }
    }
}

void TrustedNetwork::take_branch(const std::string& source) {
    const uint64_t head = epoch();
    const uint64_t from = head > kMaxRivalDepth ? head - kMaxRivalDepth : 0;
    auto theirs = fetch_epochs(net_, source, from, stopping_);
    if (!theirs) return;
    std::lock_guard lock(mutex_);
    const RosterEpoch prev = roster_vote_.current();
    // Where the two part: the first of theirs that differs from ours, after
    // one that does not.
    std::optional<RosterEpoch> base, ours_first;
    size_t parted = 0;
    for (; parted < theirs->size() && (*theirs)[parted].epoch <= prev.epoch; ++parted) {
        auto mine = own_epoch((*theirs)[parted].epoch);
        if (!mine) return;
        if (hash_of(*mine) != hash_of((*theirs)[parted])) {
            ours_first = std::move(mine).value();
            break;
        }
        base = std::move(mine).value();
    }
    if (!base || !ours_first) return;  // no parting, or before what we fetched
    // A branch only as long as ours moves us only while our epoch is young,
    // as a rival of it alone does: an old one is settled.
    if (theirs->back().epoch == prev.epoch && clock_.now() - adopted_at_ >= config_.rival_window) return;
    const std::vector<RosterEpoch> branch(theirs->begin() + static_cast<std::ptrdiff_t>(parted), theirs->end());
    Status taken = roster_vote_.offer_branch(*base, *ours_first, branch);
    if (!taken) {
        if (taken.code() != Code::kAlreadyExists)
            DHTALK_LOG(kWarning, "trust", "the branch from epoch " << ours_first->epoch << " at " << source
                                                                 << " refused: " << taken.message());
        return;
    }
    DHTALK_LOG(kWarning, "trust", "left this node's branch from epoch "
                                      << ours_first->epoch << " for "
                                      << (branch.back().epoch > prev.epoch ? "the one the network went on from"
                                                                           : "a rival with the lower hash"));
    for (const auto& e : branch)
        if (e.epoch < roster_vote_.current().epoch) roster_store_.save_epoch(e).ignore_error();  // adopted() saves the last
    adopted(prev);
}

Result<RosterEpoch> TrustedNetwork::own_epoch(uint64_t epoch) const {
    if (epoch == roster_vote_.current().epoch) return roster_vote_.current();
    auto stored = roster_store_.load_encoded_epoch(epoch);
    if (!stored) return stored.status();
    return decode_roster_epoch(*stored);
}

Status TrustedNetwork::apply_now() {
    uint32_t id;
    std::vector<std::string> targets;
    MemberAdvert advert;
    {
        std::lock_guard lock(mutex_);
        id = roster_vote_.network_id();
        for (const auto& m : roster_vote_.current().members) targets.insert(targets.end(), m.endpoints.begin(), m.endpoints.end());
        advert = advert_;
    }
    targets.insert(targets.end(), config_.bootstrap.begin(), config_.bootstrap.end());
    auto a = make_application(identity_, id, {config_.endpoint}, config_.contact, to_unix_seconds(clock_.wall_now()),
                              advert);
    if (!a) return a.status();
    const std::string doc = encode(*a);
    for (const auto& t : targets) courier_.send(t, "/v1/apply", doc);
    return Status::ok();
}

SteadyTime TrustedNetwork::tick() {
    const auto now = clock_.now();
    SteadyTime next;
    {
        std::lock_guard lock(mutex_);
        if (now < next_work_) return next_work_;
        next = next_work_ = now + config_.interval;
        if (next_announce_ == SteadyTime{}) {
            next_announce_ = now + kAnnounceInterval;  // sent at start already
        } else if (now >= next_announce_) {
            next_announce_ = now + kAnnounceInterval;
            if (auto held = member_updates_.own_update()) send_to_members("/v1/member-update", *held);
        }
    }
    start_catch_up();
    if (config_.apply && standing() == Standing::kApplicant) apply_now().ignore_error();  // retried next time
    {
        // The preferred assembler may be away: after two periods with a
        // change at quorum and no epoch, any member assembles it.
        std::lock_guard lock(mutex_);
        if (!roster_vote_.expire_applications(to_unix_seconds(clock_.wall_now())).empty()) forget_gone_applications();
        assemble_if_due(false);
        if (!roster_vote_.has_quorum()) {
            quorum_since_.reset();
        } else if (!quorum_since_) {
            quorum_since_ = now;
        } else if (now - *quorum_since_ >= 2 * config_.interval) {
            assemble_if_due(true);
        }
    }
    notify_if_adopted();
    return next;
}

}  // namespace dhtalk
