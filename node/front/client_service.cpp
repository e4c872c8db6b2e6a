#include "node/front/client_service.h"

#include <algorithm>
#include <map>

#include "common/log.h"
#include "crypto/aead.h"
#include "crypto/signing.h"
#include "crypto/user_id.h"
#include "dht/issuance_ledger.h"
#include "dht/issuance_log.h"

namespace dhtalk {

using namespace std::chrono;

namespace {

Result<RecordType> parse_record_type(const std::string& name) {
    for (RecordType t : kAllRecordTypes)
        if (name == record_type_name(t)) return t;
    return Status::invalid("unknown record type '" + name + "' (vcard, privacy, media or prekeys)");
}

}  // namespace

ClientService::ClientService(ClientServiceConfig config, const crypto::NodeIdentity& identity,
                             std::shared_ptr<const RecordValidator> validator, UserRecords& records,
                             std::function<RecordDht*()> records_dht, std::unique_ptr<VerificationSender> sender,
                             const Clock& clock)
    : config_(std::move(config)),
      identity_(identity),
      validator_(std::move(validator)),
      records_(records),
      records_dht_(std::move(records_dht)),
      redirect_rng_(config_.seed),
      clock_(clock),
      message_rate_(config_.messages_per_second, 2 * config_.messages_per_second, 100000, clock),
      inbox_(config_.inbox, identity, *config_.store, clock, *config_.drivers, *config_.peer_net),
      registrar_(RegistrarConfig{config_.limits, config_.user_id_scheme, validator_->network_id(),
                                 config_.max_queued_codes, config_.store},
                 identity, std::move(sender), clock, *config_.drivers, *config_.peer_net) {
    inbox_.attach_delivery([this](const std::string& recipient, const std::vector<InboxMessage>& messages) {
        deliver_messages(recipient, messages);
    });
    registrar_.forget_stale();  // attempts stored by an earlier run that have run out
}

Status ClientService::need_login(const ClientSession& s) {
    if (s.user) return Status::ok();
    return Status::denied("log in first: this needs a user certificate (register and verify a number)");
}

// No registration or message finishes into a half-destroyed service.
ClientService::~ClientService() {
    registrar_.stop();
    inbox_.stop();
}

Result<crypto::UserCertificateInfo> ClientService::authenticate(const dht::crypto::Certificate& cert) {
    return validator_->check_certificate(cert);
}

Status ClientService::recheck(const crypto::UserCertificateInfo& user) { return validator_->check_login(user); }

void ClientService::handle(const ClientSession& s, const ClientFrame& f, ClientReply reply) {
    if (f.kind == "hello") return hello(s, f, std::move(reply));
    if (f.kind == "roster") return roster(f, std::move(reply));
    if (f.kind == "nodes") return nodes(f, std::move(reply));
    if (f.kind == "register") return register_number(s, f, std::move(reply));
    if (f.kind == "verify") return verify(s, f, std::move(reply));
    if (f.kind == "put") return put(s, f, std::move(reply));
    if (f.kind == "get") return get(s, f, std::move(reply));
    if (f.kind == "issued") return issued(s, f, std::move(reply));
    if (f.kind == "privacy.set") return set_privacy(s, f, std::move(reply));
    if (f.kind.rfind("presence.", 0) == 0) return presence_request(s, f, std::move(reply));
    if (f.kind == "message.send") return send_message(s, f, std::move(reply));
    if (f.kind == "inbox.fetch") return fetch_inbox(s, f, std::move(reply));
    if (f.kind == "inbox.ack") return acknowledge_inbox(s, f, std::move(reply));
    if (f.kind == "inbox.follow") return follow_inbox(s, f, std::move(reply));
    if (f.kind.rfind("media.", 0) == 0) return media_request(s, f, std::move(reply));
    reply(ClientFrame::error_reply(f.id, Status::invalid("unknown request '" + f.kind + "'")));
}

void ClientService::hello(const ClientSession& s, const ClientFrame& f, ClientReply reply) {
    FrameParams p{{"node_id", identity_.node_id_hex()},
                  {"network_id", uint64_t{validator_->network_id()}},
                  {"network", config_.network_name},
                  {"user_id_scheme", config_.user_id_scheme},
                  {"node_certificate", identity_.certificate->toString(false)}};
    if (s.user) p["user_id"] = s.user->user_id;
    // A login to a busy node is told of a member with more room; the
    // session stays open, so a client that cannot reach it stays here.
    uint64_t followed = 0;
    if (f.has("redirects")) {
        auto n = f.number("redirects");
        if (!n) return reply(ClientFrame::error_reply(f.id, n.status()));
        followed = *n;
    }
    if (s.user && others_ && followed < kMaxRedirects && open_sessions_ > config_.redirect_above) {
        const MemberLoad own = own_load();
        std::vector<MemberRoom> others = others_();
        std::optional<size_t> to;
        {
            std::lock_guard lock(redirect_mutex_);
            redirects_sent_.adjust(others);
            to = choose_redirect(own, config_.redirect_above, others, redirect_rng_);
            if (to) redirects_sent_.sent(others[*to].load.node_id);
        }
        if (to) {
            p["redirect"] = others[*to].endpoint;
            p["redirect_node"] = others[*to].load.node_id;
        }
    }
    reply(ClientFrame::reply_to(0, std::move(p)));
}

MemberLoad ClientService::own_load() const {
    return {identity_.node_id_hex(), "alive", open_sessions_, config_.session_capacity};
}

void ClientService::nodes(const ClientFrame&, ClientReply reply) {
    std::vector<std::string> load{format_member_load(own_load())}, updates;
    if (others_)
        for (const auto& m : others_()) load.push_back(format_member_load(m.load));
    if (member_updates_) updates = member_updates_();
    reply(ClientFrame::reply_to(0, {{"load", std::move(load)}, {"updates", std::move(updates)}}));
}

void ClientService::roster(const ClientFrame& f, ClientReply reply) {
    if (!roster_) return reply(ClientFrame::error_reply(f.id, Status::unavailable("this node has no roster")));
    auto from = f.number("from");
    if (!from) return reply(ClientFrame::error_reply(f.id, from.status()));
    // One epoch per answer (an epoch is up to 1 MiB), and the newest number.
    auto view = roster_(*from);
    FrameParams p{{"last", view.current}};
    if (view.epoch) p["epoch"] = std::move(*view.epoch);
    reply(ClientFrame::reply_to(0, std::move(p)));
}

void ClientService::register_number(const ClientSession& s, const ClientFrame& f, ClientReply reply) {
    auto fail = [&](const Status& st) { reply(ClientFrame::error_reply(f.id, st)); };
    auto phone = f.text("phone", 64);
    if (!phone) return fail(phone.status());
    auto e164 = crypto::normalize_e164(*phone);
    if (!e164) return fail(e164.status());
    auto user_id = crypto::derive_user_id(config_.user_id_scheme, *e164);
    if (!user_id) return fail(user_id.status());
    registrar_.request_code(*e164, *user_id, s.address,
                            [reply, user_id = *user_id, lifetime = registrar_.code_lifetime_s()](const Status& st) {
                                if (!st) return reply(ClientFrame::error_reply(0, st));
                                reply(ClientFrame::reply_to(0, {{"user_id", user_id}, {"expires_in_s", lifetime}}));
                            });
}

void ClientService::verify(const ClientSession& s, const ClientFrame& f, ClientReply reply) {
    auto fail = [&](const Status& st) { reply(ClientFrame::error_reply(f.id, st)); };
    auto phone = f.text("phone", 64);
    auto code = f.text("code", 16);
    auto csr = f.text("csr", crypto::kMaxCertificateRequestBytes);
    if (!phone) return fail(phone.status());
    if (!code) return fail(code.status());
    if (!csr) return fail(csr.status());
    if (code->size() != kVerificationCodeDigits || code->find_first_not_of("0123456789") != std::string::npos)
        return fail(Status::invalid("a verification code is " + std::to_string(kVerificationCodeDigits) + " digits"));
    auto e164 = crypto::normalize_e164(*phone);
    if (!e164) return fail(e164.status());
    auto user_id = crypto::derive_user_id(config_.user_id_scheme, *e164);
    if (!user_id) return fail(user_id.status());
    registrar_.check_code(*user_id, *code, s.address, [this, user_id = *user_id, csr = *csr, reply](const Status& ok) {
        if (!ok) return reply(ClientFrame::error_reply(0, ok));
        issue_certificate(user_id, csr, reply);
    });
}

void ClientService::issue_certificate(const std::string& user_id, const std::string& csr, ClientReply reply) {
    crypto::IssueRequest r;
    r.csr_pem = csr;
    r.user_id = user_id;
    r.network_id = validator_->network_id();
    r.now = clock_.wall_now();
    auto cert = crypto::issue_user_certificate(r, identity_);
    if (!cert) return reply(ClientFrame::error_reply(0, cert.status()));
    Status kept = records_.keep_certificate(user_id, *cert);
    if (!kept) return reply(ClientFrame::error_reply(0, kept));
    DHTALK_LOG(kInfo, "clients", "registered user " << user_id);
    if (config_.ledger) count_issued(*cert);
    auto answer = ClientFrame::reply_to(0, {{"user_id", user_id}, {"certificate", *cert}, {"node_id", identity_.node_id_hex()}});
    // Every certificate goes in its user's issuance log, where contacts look
    // for it, before its user has it. OpenDHT keeps announcing it, and
    // republish() after a restart; a put that failed is tried again there.
    RecordDht* dht = records_dht_();
    if (!dht) return reply(std::move(answer));
    dht->put_issued(user_id, *cert, [reply, answer = std::move(answer), user_id](bool stored) {
        if (!stored) DHTALK_LOG(kInfo, "clients", "no peer took the issuance log of user " << user_id << " yet: it is announced again");
        reply(answer);
    });
}

void ClientService::count_issued(const std::string& pem) {
    // Signed here a moment ago: its fields are read, not checked again.
    auto cert = crypto::parse_certificate(pem);
    auto info = cert ? crypto::inspect_user_certificate(**cert) : Result<crypto::UserCertificateInfo>(cert.status());
    Status counted = info ? config_.ledger->record({pem, *info, issuance_value_id(pem)}) : info.status();
    if (!counted) DHTALK_LOG(kWarning, "audit", "cannot count an issuance: " << counted.message());
}

void ClientService::publish(const dht::InfoHash& key, RecordType type, const std::string& envelope,
                            std::function<void(bool)> done) {
    RecordDht* dht = records_dht_();
    if (!dht) {
        done(false);
        return;
    }
    dht->put_record(key, type, envelope, std::move(done));
}

void ClientService::put(const ClientSession& s, const ClientFrame& f, ClientReply reply) {
    auto fail = [&](const Status& st) { reply(ClientFrame::error_reply(f.id, st)); };
    if (Status st = need_login(s); !st) return fail(st);
    auto envelope = f.text("record", kMaxRecordBytes);
    if (!envelope) return fail(envelope.status());
    auto opened = validator_->open(*envelope);
    if (!opened) return fail(opened.status());
    const Record& r = opened->record;
    if (r.user_id != s.user->user_id)
        return fail(Status::denied("you are logged in as " + s.user->user_id + " and cannot publish for " + r.user_id));
    const auto key = record_key(r.type, r.user_id, r.locator);
    auto checked = validator_->check(key, r.type, *envelope);
    if (!checked) return fail(checked.status());
    if (auto held = records_.find_record(r.user_id, key))
        if (Status edit = validator_->check_edit(key, r.type, *held, *envelope); !edit) return fail(edit);
    Status kept = records_.keep_record(r.user_id, key, *envelope);
    if (kept.code() == Code::kResourceExhausted && drop_expired_records(r.user_id) > 0)
        kept = records_.keep_record(r.user_id, key, *envelope);  // expired ones no longer count
    if (!kept) return fail(kept);
    const uint64_t sequence = r.sequence;
    publish(key, r.type, *envelope, [reply, sequence](bool replicated) {
        reply(ClientFrame::reply_to(0, {{"sequence", sequence}, {"replicated", replicated}}));
    });
}

void ClientService::get(const ClientSession& s, const ClientFrame& f, ClientReply reply) {
    auto fail = [&](const Status& st) { reply(ClientFrame::error_reply(f.id, st)); };
    if (Status st = need_login(s); !st) return fail(st);
    auto type_name = f.text("type", 16);
    auto user_id = f.text("user_id", 64);
    if (!type_name) return fail(type_name.status());
    if (!user_id) return fail(user_id.status());
    auto type = parse_record_type(*type_name);
    if (!type) return fail(type.status());
    if (!crypto::is_user_id(config_.user_id_scheme, *user_id)) return fail(Status::invalid("'" + *user_id + "' is not a user id"));
    std::string locator;
    if (f.has("locator")) {
        auto l = f.text("locator", kRecordLocatorBytes);
        if (!l) return fail(l.status());
        locator = *l;
    }
    RecordDht* dht = records_dht_();
    if (!dht) return fail(Status::unavailable("this node has not joined the network yet: try another node"));
    const auto key = record_key(*type, *user_id, locator);
    const std::string what = std::string(record_type_name(*type)) + " of user " + *user_id;
    {
        // Requests for a key already being looked up wait for that get.
        std::lock_guard lock(lookups_->mutex);
        auto it = lookups_->waiting.find(key);
        if (it != lookups_->waiting.end()) {
            it->second.push_back(std::move(reply));
            return;
        }
        lookups_->waiting[key].push_back(std::move(reply));
    }

    struct Best {
        std::mutex mutex;
        std::string envelope;  // guarded by mutex
        uint64_t sequence = 0;
        bool found = false;
        size_t refused = 0;
    };
    auto best = std::make_shared<Best>();
    auto consider = [validator = validator_, key, type = *type, best](std::string_view envelope) {
        auto opened = validator->check(key, type, envelope);
        std::lock_guard lock(best->mutex);
        if (!opened) {
            best->refused++;
            return;
        }
        if (!best->found || opened->record.sequence > best->sequence) {
            best->found = true;
            best->sequence = opened->record.sequence;
            best->envelope = std::string(envelope);
        }
    };
    if (auto local = records_.find_record(*user_id, key)) consider(*local);
    dht->get_records(
        key, *type, consider,
        [best, lookups = lookups_, key, what] {
            ClientFrame frame;
            {
                std::lock_guard lock(best->mutex);
                if (best->refused)
                    DHTALK_LOG(kInfo, "clients", "refused " << best->refused << " invalid values for the " << what);
                frame = best->found ? ClientFrame::reply_to(0, {{"record", best->envelope}, {"sequence", best->sequence}})
                                    : ClientFrame::error_reply(0, Status::not_found("no " + what + " in the network"));
            }
            std::vector<ClientReply> waiting;
            {
                std::lock_guard lock(lookups->mutex);
                waiting.swap(lookups->waiting[key]);
                lookups->waiting.erase(key);
            }
            for (auto& r : waiting) r(frame);
        });
}

void ClientService::issued(const ClientSession& s, const ClientFrame& f, ClientReply reply) {
    auto fail = [&](const Status& st) { reply(ClientFrame::error_reply(f.id, st)); };
    if (Status st = need_login(s); !st) return fail(st);
    auto user_id = f.text("user_id", 64);
    if (!user_id) return fail(user_id.status());
    if (!crypto::is_user_id(config_.user_id_scheme, *user_id)) return fail(Status::invalid("'" + *user_id + "' is not a user id"));
    RecordDht* dht = records_dht_();
    if (!dht) return fail(Status::unavailable("this node has not joined the network yet: try another node"));
    struct Found {
        std::mutex mutex;
        std::map<uint64_t, IssuedCertificate> entries;  // guarded by mutex
        size_t refused = 0;
    };
    auto found = std::make_shared<Found>();
    const auto key = issuance_log_key(*user_id);
    // What this node issued counts even where the log has no peer yet (a
    // network of one).
    if (auto mine = records_.find_certificate(*user_id))
        if (auto issued = check_issued(*validator_, key, *mine)) found->entries.emplace(issued->id, std::move(issued).value());
    dht->get_issued(
        *user_id,
        [validator = validator_, key, found](std::string_view pem) {
            auto issued = check_issued(*validator, key, pem);
            std::lock_guard lock(found->mutex);
            if (!issued) found->refused++;
            else found->entries.emplace(issued->id, std::move(issued).value());
        },
        [found, reply, user = *user_id] {
            std::lock_guard lock(found->mutex);
            if (found->refused)
                DHTALK_LOG(kInfo, "clients", "refused " << found->refused << " invalid entries of the issuance log of " << user);
            std::vector<const IssuedCertificate*> newest;
            for (const auto& [id, e] : found->entries) newest.push_back(&e);
            std::sort(newest.begin(), newest.end(), [](auto* a, auto* b) { return a->info.not_before_s > b->info.not_before_s; });
            if (newest.size() > kMaxIssuedPerUser) newest.resize(kMaxIssuedPerUser);
            std::vector<std::string> pems;
            for (const auto* e : newest) pems.push_back(e->pem);
            reply(ClientFrame::reply_to(0, {{"certificates", std::move(pems)}}));
        });
}

void ClientService::set_privacy(const ClientSession& s, const ClientFrame& f, ClientReply reply) {
    auto fail = [&](const Status& st) { reply(ClientFrame::error_reply(f.id, st)); };
    if (Status st = need_login(s); !st) return fail(st);
    PrivacyList list;
    auto allow_only = f.flag("allow_only");
    auto blocked = f.list("blocked");
    auto allowed = f.list("allowed");
    if (!allow_only) return fail(allow_only.status());
    if (!blocked) return fail(blocked.status());
    if (!allowed) return fail(allowed.status());
    list.allow_only = *allow_only;
    list.blocked = std::move(blocked).value();
    list.allowed = std::move(allowed).value();
    uint64_t set_ms = 0;  // a client that does not say: as old as can be
    if (f.has("set_ms")) {
        auto ms = f.number("set_ms");
        if (!ms) return fail(ms.status());
        set_ms = *ms;
    }
    // Held in memory only, while the user is online here: the client gives
    // it on every login. The user's devices may hold lists of different
    // ages: the newest stays.
    {
        std::lock_guard lock(sessions_mutex_);
        if (!sessions_of_.count(s.user->user_id)) return reply(ClientFrame::reply_to(0));
        auto held = privacy_of_.find(s.user->user_id);
        if (held != privacy_of_.end() && held->second.device != s.user->device_id && held->second.set_ms > set_ms)
            return reply(ClientFrame::reply_to(0, {{"kept_newer", true}}));
        privacy_of_[s.user->user_id] = {list, set_ms, s.user->device_id};
    }
    if (presence_) presence_->set_privacy(s.user->user_id, list);
    reply(ClientFrame::reply_to(0));
}

void ClientService::attach_presence(GossipService* presence, std::function<void(uint64_t, ClientFrame)> push) {
    presence_ = presence;
    push_ = std::move(push);
}

namespace {

FrameParams presence_params(const Presence& p) {
    return {{"user_id", p.user_id},
            {"show", p.show},
            {"status", p.status},
            {"last_seen_ms", static_cast<uint64_t>(std::max<int64_t>(p.last_seen_ms, 0))},
            {"host", p.host}};
}

}  // namespace

void ClientService::opened(const ClientSession& s) {
    ++open_sessions_;
    if (!s.user) return;
    bool first;
    {
        std::lock_guard lock(sessions_mutex_);
        auto& sessions = sessions_of_[s.user->user_id];
        first = sessions.empty();
        sessions.insert(s.id);
    }
    if (!first || !presence_) return;
    // The first session makes the user available; its presence goes to
    // nobody until the client gives its privacy list (privacy.set).
    presence_->login(s.user->user_id);
}

void ClientService::closed(const ClientSession& s) {
    --open_sessions_;
    if (!s.user) return;
    bool followed = false;
    {
        std::lock_guard lock(sessions_mutex_);
        if (auto it = inbox_followers_.find(inbox_of(s)); it != inbox_followers_.end()) {
            followed = it->second.erase(s.id) > 0;
            if (it->second.empty()) inbox_followers_.erase(it);
        }
    }
    if (followed) inbox_.unfollow(inbox_of(s));
    std::set<std::string> watched;
    bool last;
    {
        std::lock_guard lock(sessions_mutex_);
        if (auto w = watches_.find(s.id); w != watches_.end()) {
            watched = std::move(w->second);
            watches_.erase(w);
        }
        auto it = sessions_of_.find(s.user->user_id);
        if (it != sessions_of_.end()) it->second.erase(s.id);
        last = it != sessions_of_.end() && it->second.empty();
        if (last) {
            sessions_of_.erase(it);
            privacy_of_.erase(s.user->user_id);  // the next login gives it again
        }
    }
    if (!presence_) return;
    for (const auto& target : watched) presence_->unwatch(s.user->user_id, target);
    if (last) presence_->logout(s.user->user_id);  // dropping the connection makes the user unavailable
}

void ClientService::deliver(const PresenceDelivery& d) {
    if (!push_) return;
    std::vector<uint64_t> to;
    {
        std::lock_guard lock(sessions_mutex_);
        auto sessions = sessions_of_.find(d.watcher);
        if (sessions == sessions_of_.end()) return;
        for (uint64_t id : sessions->second)
            if (auto w = watches_.find(id); w != watches_.end() && w->second.count(d.presence.user_id)) to.push_back(id);
    }
    for (uint64_t id : to) {
        ClientFrame f;
        f.kind = "presence";
        f.params = presence_params(d.presence);
        push_(id, std::move(f));
    }
}

void ClientService::presence_request(const ClientSession& s, const ClientFrame& f, ClientReply reply) {
    auto fail = [&](const Status& st) { reply(ClientFrame::error_reply(f.id, st)); };
    if (Status st = need_login(s); !st) return fail(st);
    if (!presence_) return fail(Status::unavailable("this node has not joined the network yet: try another node"));
    const std::string& me = s.user->user_id;
    if (f.kind == "presence.set") {
        auto show = f.text("show", 16);
        if (!show) return fail(show.status());
        std::string status;
        if (f.has("status")) {
            auto st = f.text("status", kMaxPresenceStatusBytes);
            if (!st) return fail(st.status());
            status = *st;
        }
        Status st = presence_->set(me, *show, status);
        if (!st) return fail(st);
        return reply(ClientFrame::reply_to(0));
    }
    if (f.kind == "presence.get") {
        auto target = f.text("user_id", 64);
        if (!target) return fail(target.status());
        if (!crypto::is_user_id(config_.user_id_scheme, *target)) return fail(Status::invalid("'" + *target + "' is not a user id"));
        presence_->get(me, *target, [reply, target = *target](std::optional<Presence> p) {
            if (!p) return reply(ClientFrame::error_reply(0, Status::not_found("no presence of " + target + " is visible to you")));
            reply(ClientFrame::reply_to(0, presence_params(*p)));
        });
        return;
    }
    if (f.kind == "presence.watch" || f.kind == "presence.unwatch") {
        auto targets = f.list("user_ids");
        if (!targets) return fail(targets.status());
        for (const auto& t : *targets)
            if (!crypto::is_user_id(config_.user_id_scheme, t)) return fail(Status::invalid("'" + t + "' is not a user id"));
        const bool watching = f.kind == "presence.watch";
        std::vector<std::string> changed;
        {
            std::lock_guard lock(sessions_mutex_);
            auto& mine = watches_[s.id];
            for (const auto& t : *targets)
                if (watching ? mine.insert(t).second : mine.erase(t) > 0) changed.push_back(t);
        }
        for (size_t i = 0; i < changed.size(); ++i) {
            if (!watching) {
                presence_->unwatch(me, changed[i]);
                continue;
            }
            Status st = presence_->watch(me, changed[i]);
            if (!st) {
                // This one and those after it are not watched: forget them.
                std::lock_guard lock(sessions_mutex_);
                auto& mine = watches_[s.id];
                for (size_t k = i; k < changed.size(); ++k) mine.erase(changed[k]);
                return fail(st);
            }
        }
        return reply(ClientFrame::reply_to(0));
    }
    fail(Status::invalid("unknown request '" + f.kind + "'"));
}

size_t ClientService::drop_expired_records(const std::string& user_id) {
    std::vector<dht::InfoHash> expired;
    const int64_t now_s = to_unix_seconds(clock_.wall_now());
    records_
        .for_each_record_of(user_id,
                            [&](const dht::InfoHash& key, const std::string& envelope) {
                                auto opened = validator_->open(envelope);
                                if (!opened || opened->record.expires_at_s <= now_s) expired.push_back(key);
                            })
        .ignore_error();
    for (const auto& key : expired) records_.erase_record(user_id, key).ignore_error();
    return expired.size();
}

size_t ClientService::republish() {
    // Records kept before per-user quotas move to their user's place first.
    const size_t moved = records_.migrate_legacy([this](const std::string& envelope) -> std::optional<std::string> {
        auto opened = validator_->open(envelope);
        if (!opened) return std::nullopt;
        return opened->record.user_id;
    });
    if (moved) DHTALK_LOG(kInfo, "clients", "moved " << moved << " kept records to the per-user layout");
    size_t count = 0;
    std::vector<std::pair<std::string, dht::InfoHash>> expired;
    records_
        .for_each_record([&](const std::string& user_id, const dht::InfoHash& key, const std::string& envelope) {
            auto opened = validator_->open(envelope);
            if (!opened) {
                expired.emplace_back(user_id, key);
                return;
            }
            auto checked = validator_->check(key, opened->record.type, envelope);
            if (!checked) {
                // Only time makes a kept record useless for good; a record whose
                // issuer is not a member now stays kept but unpublished.
                if (opened->record.expires_at_s <= to_unix_seconds(clock_.wall_now())) expired.emplace_back(user_id, key);
                DHTALK_LOG(kInfo, "clients", "not republishing a record of user " << opened->record.user_id << ": "
                                                                                   << checked.status().message());
                return;
            }
            publish(key, opened->record.type, envelope, [](bool) {});
            count++;
        })
        .ignore_error();  // a scan failure is logged by the store; the next start tries again
    for (const auto& [user_id, key] : expired) records_.erase_record(user_id, key).ignore_error();
    if (RecordDht* dht = records_dht_())
        records_
            .for_each_certificate([&](const std::string& user_id, const std::string& pem) {
                if (check_issued(*validator_, issuance_log_key(user_id), pem)) dht->put_issued(user_id, pem, [](bool) {});
            })
            .ignore_error();
    return count;
}

}  // namespace dhtalk
