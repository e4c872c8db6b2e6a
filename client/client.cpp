#include "client/client.h"

#include <algorithm>
#include <map>

#include "common/clock.h"
#include "common/files.h"
#include "common/host_port.h"
#include "crypto/aead.h"
#include "crypto/signing.h"
#include "crypto/user_certificate.h"
#include "crypto/user_id.h"
#include "net/member_load.h"
#include "roster/roster_rules.h"

namespace dhtalk::client {

using namespace std::chrono;

namespace {

constexpr const char* kDefaultNode = "127.0.0.1:4223";
constexpr size_t kMaxMediaFileBytes = 64u << 20;

int64_t now_s() { return to_unix_seconds(system_clock::now()); }

FrameParams privacy_params(const PrivacyList& list, int64_t set_ms) {
    return {{"allow_only", list.allow_only},
            {"blocked", list.blocked},
            {"allowed", list.allowed},
            {"set_ms", static_cast<uint64_t>(std::max<int64_t>(set_ms, 0))}};
}

}  // namespace

bool node_failed(const Status& s) {
    return s.code() == Code::kUnavailable || s.code() == Code::kTimeout || s.code() == Code::kIoError ||
           s.code() == Code::kCorruption;
}

Result<std::unique_ptr<Client>> Client::open(ClientOptions options) {
    auto profile = Profile::load(options.profile_dir);
    if (!profile) return profile.status();
    if (options.nodes.empty()) options.nodes = profile->nodes;
    if (options.nodes.empty()) options.nodes.push_back(kDefaultNode);
    return std::unique_ptr<Client>(new Client(std::move(options), std::move(profile).value()));
}

Client::Client(ClientOptions options, Profile profile) : options_(std::move(options)), profile_(std::move(profile)) {}

Status Client::connect(bool login) {
    connection_.reset();
    std::shared_ptr<crypto::TlsCredentials>& credentials = login ? login_credentials_ : anonymous_credentials_;
    if (login && !profile_.registered())
        return Status::invalid("this profile has no user yet: run 'dhtalk register +NUMBER', then 'dhtalk verify CODE'");
    if (!credentials) {
        // Kept while the client lives, with the session tickets nodes give.
        if (login) {
            auto cert = crypto::parse_certificate(profile_.certificate);
            if (!cert) return Status::corruption("the profile's certificate is damaged: " + cert.status().message());
            auto c = crypto::TlsCredentials::with_certificate(**cert, *profile_.key);
            if (!c) return c.status();
            credentials = std::move(c).value();
        } else {
            auto c = crypto::TlsCredentials::anonymous();
            if (!c) return c.status();
            credentials = std::move(c).value();
        }
    }
    Status best = Status::unavailable("no node to connect to");
    for (const auto& endpoint : options_.nodes) {
        auto opened = open_member(endpoint, credentials, 0);
        if (!opened) {
            // A refusal says more than an unreachable node; keep it.
            if (node_failed(best) || !node_failed(opened.status())) best = opened.status();
            continue;
        }
        if (login) follow_redirects(*opened, credentials);
        if (login && profile_.privacy && profile_.privacy_ms > 0) {
            // The node sends none of this user's presence until it holds the
            // user's current list: every login gives it.
            auto given = opened->conn->call("privacy.set", privacy_params(*profile_.privacy, profile_.privacy_ms), options_.timeout);
            Status st = given ? given->status() : given.status();
            if (!st) {
                if (node_failed(best) || !node_failed(st)) best = st;
                continue;
            }
        }
        node_id_ = opened->node_id;
        scheme_ = roster_->current().settings.user_id_scheme;
        connection_ = std::move(opened->conn);
        logged_in_ = login;
        if (login) learn_nodes();
        if (login) settle_first_device();
        // Its reads may have failed over (a nested connect()), and found no node.
        if (!connection_)
            return Status::unavailable("the node went away while logging in (" + went_away_.message() +
                                       "), and no other node answers");
        return Status::ok();
    }
    return best;
}

Result<Client::Opened> Client::open_member(const std::string& endpoint,
                                           const std::shared_ptr<crypto::TlsCredentials>& credentials,
                                           uint64_t redirects) {
    auto conn = ClientConnection::open(endpoint, credentials, options_.timeout);
    if (!conn) return conn.status();
    auto hello = (*conn)->call("hello", {{"redirects", redirects}}, options_.timeout);
    if (!hello) return hello.status();
    if (Status st = hello->status(); !st) return st;
    auto network = hello->number("network_id");
    if (network && profile_.network_id && *network != profile_.network_id)
        return Status::invalid("node " + endpoint + " belongs to another network than this profile");
    // Nothing of the user's goes to a node before it proves it is a member.
    auto member = authenticate(**conn);
    if (!member) return member.status();
    if (!profile_.network_id) profile_.network_id = roster_->network_id();
    return Opened{std::move(conn).value(), std::move(member).value(), std::move(hello).value()};
}

void Client::follow_redirects(Opened& opened, const std::shared_ptr<crypto::TlsCredentials>& credentials) {
    for (uint64_t followed = 1; followed <= kMaxRedirects && opened.hello.has("redirect"); ++followed) {
        auto to = opened.hello.text("redirect", kMaxTextBytes);
        if (!to || !parse_host_port(*to)) return;  // nonsense: stay
        // The target proves it is a member like any node; one that cannot
        // is no reason to leave a node that took the login.
        auto next = open_member(*to, credentials, followed);
        if (!next) return;
        opened = std::move(next).value();
    }
}

Result<std::vector<NodeInfo>> Client::member_nodes(ClientConnection& conn) {
    auto reply = conn.call("nodes", {}, options_.timeout);
    if (!reply) return reply.status();
    if (Status st = reply->status(); !st) return st;
    auto loads = reply->list("load");
    if (!loads) return loads.status();
    auto updates = reply->list("updates");
    if (!updates) return updates.status();
    const RosterEpoch& roster = roster_->current();
    // Only updates the member signed count, the newest of each.
    std::map<std::string, MemberUpdate> moved;
    for (const auto& encoded : *updates) {
        auto u = decode_member_update(encoded);
        if (!u || !verify_member_update(*u, roster_->network_id(), roster)) continue;
        auto& held = moved[u->node_id];
        if (u->serial > held.serial) held = std::move(u).value();
    }
    std::map<std::string, MemberLoad> load_of;
    for (const auto& line : *loads)
        if (auto l = parse_member_load(line); l && roster.member(l->node_id)) load_of[l->node_id] = *l;
    std::vector<NodeInfo> out;
    for (const auto& m : roster.members) {
        NodeInfo n{m.node_id, m.advert.client_endpoints, "", 0, 0, m.node_id == node_id_};
        if (auto u = moved.find(m.node_id); u != moved.end()) n.endpoints = u->second.advert.client_endpoints;
        if (auto l = load_of.find(m.node_id); l != load_of.end()) {
            n.state = l->second.state;
            n.sessions = l->second.sessions;
            n.capacity = l->second.capacity;
        }
        out.push_back(std::move(n));
    }
    auto rank = [](const NodeInfo& n) {
        const double used = n.capacity ? static_cast<double>(n.sessions) / n.capacity : 1.0;
        return std::make_pair(n.state == "dead" ? 2 : n.state == "alive" ? 0 : 1, used);
    };
    std::stable_sort(out.begin(), out.end(), [&](const NodeInfo& a, const NodeInfo& b) { return rank(a) < rank(b); });
    return out;
}

void Client::learn_nodes() {
    auto listed = member_nodes(*connection_);
    if (!listed) return;  // the list stays as it was; the next login asks again
    std::vector<std::string> order{connection_->endpoint()};
    auto add = [&](const std::string& e) {
        if (std::find(order.begin(), order.end(), e) == order.end()) order.push_back(e);
    };
    for (const auto& n : *listed)
        if (!n.endpoints.empty()) add(n.endpoints.front());
    for (const auto& e : options_.nodes) add(e);
    options_.nodes = order;
    profile_.nodes = std::move(order);
    profile_.save_state().ignore_error();  // a list not kept is asked for again at the next login
}

Result<std::vector<NodeInfo>> Client::nodes() {
    for (int attempt = 0; attempt < 2; ++attempt) {
        if (!connection_) DHTALK_TRY(connect(/*login*/ false));
        auto listed = member_nodes(*connection_);
        if (listed || !node_failed(listed.status()) || attempt == 1) return listed;
        demote_current_node(listed.status());  // gone mid-call: ask the next
    }
    return Status::internal("unreachable");
}

Result<std::pair<uint64_t, std::optional<RosterEpoch>>> Client::roster_epoch(ClientConnection& conn, uint64_t at) {
    auto reply = conn.call("roster", {{"from", at}}, options_.timeout);
    if (!reply) return reply.status();
    if (Status st = reply->status(); !st) return st;
    auto last = reply->number("last");
    if (!last) return last.status();
    if (!reply->has("epoch")) return std::make_pair(*last, std::optional<RosterEpoch>());
    auto text = reply->text("epoch", kMaxDocumentBytes);
    if (!text) return text.status();
    auto epoch = decode_roster_epoch(*text);
    if (!epoch) return Status::denied(conn.endpoint() + " sent a malformed roster epoch: " + epoch.status().message());
    if (epoch->epoch != at) return Status::denied(conn.endpoint() + " sent epoch " + std::to_string(epoch->epoch) +
                                                  " for " + std::to_string(at));
    return std::make_pair(*last, std::optional<RosterEpoch>(std::move(epoch).value()));
}

Result<std::string> Client::authenticate(ClientConnection& conn) {
    const std::string& endpoint = conn.endpoint();
    if (!roster_ && !profile_.roster.empty()) {
        auto kept = TrustedRoster::resume(profile_.roster, profile_.network_id);
        if (!kept) return Status::corruption((profile_.dir / "roster.epoch").string() + ": " + kept.status().message());
        roster_ = std::move(kept).value();
    }
    // Worked on as a copy: it is kept only if this node proves a member.
    std::optional<TrustedRoster> view = roster_;
    if (!view) {
        // First use: the chain is verified from its genesis on, epoch by
        // epoch as it arrives (holding one at a time), and pinned.
        auto genesis = roster_epoch(conn, 0);
        if (!genesis) return genesis.status();
        if (!genesis->second) return Status::denied(endpoint + " has no roster to show");
        auto pinned = TrustedRoster::from_chain(
            {*genesis->second}, profile_.network_id ? std::optional<uint32_t>(profile_.network_id) : std::nullopt);
        if (!pinned) return Status::denied(endpoint + " presented a genesis that does not verify: " + pinned.status().message());
        view = std::move(pinned).value();
    }
    // Only epochs that follow the pinned one under the network's rules.
    for (uint64_t at = view->current().epoch + 1;; ++at) {
        auto step = roster_epoch(conn, at);
        if (!step) return step.status();
        if (!step->second) break;
        Status next = view->extend(*step->second);
        if (!next)
            return Status::denied(endpoint + " presented a roster epoch that does not follow the one this profile trusts: " +
                                  next.message());
        if (at >= step->first) break;
    }
    auto cert = conn.peer_certificate();
    if (!cert) return Status::denied("node " + endpoint + " presented no certificate");
    auto member = view->member_for(*cert, std::chrono::system_clock::now());
    if (!member) return Status::denied("node " + endpoint + " is not a member of this network: " + member.status().message());
    if (!roster_ || view->current().epoch != roster_->current().epoch) {
        roster_ = std::move(view);
        profile_.roster = encode(roster_->current());
        profile_.network_id = roster_->network_id();
        DHTALK_TRY(profile_.save_roster());
        DHTALK_TRY(profile_.save_state());
    }
    return member;
}

Result<ClientFrame> Client::call(const std::string& method, FrameParams params, bool login, bool once) {
    for (int attempt = 0; attempt < 2; ++attempt) {
        if (!connection_ || logged_in_ != login) DHTALK_TRY(connect(login));
        auto reply = connection_->call(method, params, options_.timeout);
        if (!reply) {
            if (!node_failed(reply.status())) return reply.status();
            // The node went away mid-call: try the others, this one last.
            demote_current_node(reply.status());
            if (attempt == 1 || once) return reply.status();
            continue;
        }
        if (Status s = reply->status(); !s) return s;
        return reply;
    }
    return Status::internal("unreachable");
}

Result<std::vector<ClientFrame>> Client::call_batch(const std::string& method, std::vector<FrameParams> params) {
    for (int attempt = 0; attempt < 2; ++attempt) {
        if (!connection_ || !logged_in_) DHTALK_TRY(connect(true));
        auto replies = connection_->call_batch(method, params, options_.timeout);
        if (replies || !node_failed(replies.status()) || attempt == 1) return replies;
        demote_current_node(replies.status());  // gone mid-batch: the others, this one last
    }
    return Status::internal("unreachable");
}

Status Client::set_presence(const std::string& show, const std::string& status) {
    return call("presence.set", {{"show", show}, {"status", status}}).status();
}

Result<FrameParams> Client::presence(const std::string& user_id) {
    auto reply = call("presence.get", {{"user_id", user_id}});
    if (!reply) return reply.status();
    return reply->params;
}

Status Client::watch_presence(const std::vector<std::string>& user_ids,
                              const std::function<bool(const FrameParams&)>& on_change) {
    // A node that goes away mid-watch is replaced by the next one, as many
    // times in a row as there are nodes to try.
    size_t failures = 0;
    for (;;) {
        auto reply = call("presence.watch", {{"user_ids", user_ids}});
        if (!reply) return reply.status();
        for (;;) {
            auto frame = connection_->receive(seconds(60));
            if (!frame) {
                if (frame.status().code() == Code::kTimeout) {
                    // Quiet for a minute: show the node the session is in use
                    // (it closes idle ones); a session in use wants no redirect.
                    if (auto sent = connection_->send("hello", {{"redirects", kMaxRedirects}}); !sent) return sent.status();
                    continue;
                }
                if (!node_failed(frame.status()) || ++failures > options_.nodes.size()) return frame.status();
                demote_current_node(frame.status());
                break;  // watch again, through the next node
            }
            if (frame->kind != "presence") continue;
            failures = 0;
            if (!on_change(frame->params)) return Status::ok();
        }
    }
}

Result<std::string> Client::user_id_of(const std::string& phone_or_id) {
    if (crypto::is_user_id(scheme_, phone_or_id)) return phone_or_id;
    auto e164 = crypto::normalize_e164(phone_or_id);
    if (!e164) return Status::invalid("'" + phone_or_id + "' is neither a phone number (+E164) nor a user id");
    return crypto::derive_user_id(scheme_, *e164);
}

Result<std::string> Client::register_number(const std::string& phone) {
    auto e164 = crypto::normalize_e164(phone);
    if (!e164) return e164.status();
    auto reply = call("register", {{"phone", *e164}}, /*login*/ false);
    if (!reply) return reply.status();
    auto user_id = reply->text("user_id", 64);
    if (!user_id) return user_id.status();
    profile_.phone = *e164;
    remember_nodes();
    DHTALK_TRY(profile_.save_state());
    return user_id;
}

Status Client::verify(const std::string& code) {
    if (profile_.phone.empty()) return Status::invalid("no registration is waiting: run 'dhtalk register +NUMBER' first");
    auto user_id = user_id_of(profile_.phone);
    if (!user_id) return user_id.status();
    auto key = crypto::generate_user_key();
    if (!key) return key.status();
    auto csr = crypto::make_certificate_request(**key, *user_id);
    if (!csr) return csr.status();
    auto reply = call("verify", {{"phone", profile_.phone}, {"code", code}, {"csr", *csr}}, /*login*/ false, /*once*/ true);
    if (!reply) {
        // Asked again, a node that used the code before going quiet would
        // only say that no code is waiting.
        if (node_failed(reply.status()))
            return Status(reply.status().code(), reply.status().message() +
                                                     " (the code may be spent: if verifying again says no code is "
                                                     "waiting, register again)");
        return reply.status();
    }
    auto cert_pem = reply->text("certificate", crypto::kMaxCertificateBytes);
    if (!cert_pem) return cert_pem.status();
    auto cert = crypto::parse_certificate(*cert_pem);
    if (!cert) return Status::corruption("the node issued an unreadable certificate");
    auto info = crypto::inspect_user_certificate(**cert);
    if (!info || info->user_id != *user_id || (*cert)->getPublicKey().getId() != (*key)->getPublicKey().getId())
        return Status::corruption("the node issued a certificate for another user or key");
    if (info->issuer_node_id != node_id_ || !roster_->check_user(**cert, *info, system_clock::now()))
        return Status::corruption("the node issued a certificate the network does not vouch for");
    profile_.key = std::move(key).value();
    profile_.certificate = *cert_pem;
    profile_.user_id = *user_id;
    // The key is new, so no list sealed to it can exist: the first device
    // knows the whole list from here on. Another device of the user waits
    // for the list from the others (share_privacy()), and gives its node
    // none until then, so as not to replace theirs with an empty one.
    profile_.privacy = PrivacyList{};
    profile_.privacy_ms = 0;  // no list given at the login below
    remember_nodes();
    connection_.reset();  // the next call logs in
    login_credentials_.reset();  // with the new certificate
    listed_ = false;  // a new device: not on the list yet
    first_login_pending_ = true;
    // Whether it is the user's first device shows at its first login
    // (settle_first_device()), in this process.
    return profile_.save();
}

void Client::settle_first_device() {
    // Asked once, right after verification, as the read inside verify()
    // was: a later process of a device still waiting for the list does not
    // take a miss of the network for "no other device".
    if (!first_login_pending_ || !profile_.privacy || profile_.privacy_ms != 0) return;
    first_login_pending_ = false;  // also no asking again from a failover below
    auto others = device_list(profile_.user_id, /*fresh*/ true);
    // Another device is listed, or nobody can tell now: it waits for the
    // list from the others (share_privacy()), or until it finds itself alone
    // on the list (list_this_device()).
    if (!others || !others->list.devices.empty()) return;
    // Given to the node now; if that fails, every later login gives it.
    if (keep_privacy_as_only_device()) give_privacy().ignore_error();
}

Status Client::keep_privacy_as_only_device() {
    // Stamped as old as can be, so that a list the user set on another
    // device wins over it.
    profile_.privacy_ms = 1;
    return profile_.save_state();
}

void Client::demote_current_node(const Status& why) {
    went_away_ = why;
    if (!connection_) return;  // already dropped (a call failed over and found no node)
    auto it = std::find(options_.nodes.begin(), options_.nodes.end(), connection_->endpoint());
    if (it != options_.nodes.end()) std::rotate(it, it + 1, options_.nodes.end());
    connection_.reset();
}

void Client::remember_nodes() {
    std::vector<std::string> nodes{connection_->endpoint()};
    for (const auto& n : options_.nodes)
        if (n != nodes.front()) nodes.push_back(n);
    profile_.nodes = nodes;
}

uint64_t Client::next_sequence() {
    profile_.last_sequence = std::max<uint64_t>(profile_.last_sequence + 1, to_unix_millis(system_clock::now()));
    return profile_.last_sequence;
}

Result<uint64_t> Client::publish(Record r) {
    if (!profile_.registered()) return Status::invalid("this profile has no user yet: register and verify first");
    r.user_id = profile_.user_id;
    r.certificate = profile_.certificate;
    r.sequence = next_sequence();
    r.expires_at_s = now_s() + (kMaxRecordLifetime - minutes(1)).count();
    auto envelope = seal_record(r, *profile_.key);
    if (!envelope) return envelope.status();
    DHTALK_TRY(profile_.save_state());  // the sequence is used now, whatever happens next
    auto reply = call("put", {{"record", *envelope}});
    if (!reply) return reply.status();
    return r.sequence;
}

Result<OpenedRecord> Client::fetch(RecordType type, const std::string& user_id, const std::string& locator) {
    FrameParams p{{"type", std::string(record_type_name(type))}, {"user_id", user_id}};
    if (!locator.empty()) p["locator"] = locator;
    auto reply = call("get", std::move(p));
    if (!reply) return reply.status();
    auto envelope = reply->text("record", kMaxRecordBytes);
    if (!envelope) return envelope.status();
    // The node checked it; a client believes only what it checks itself.
    auto opened = open_record(*envelope);
    if (!opened) return Status::corruption("the node returned an invalid record: " + opened.status().message());
    const Record& r = opened->record;
    if (r.type != type || r.user_id != user_id || r.locator != locator)
        return Status::corruption("the node returned a record for something else");
    if (Status issuer = roster_->check_user(*opened->certificate, opened->certificate_info, system_clock::now()); !issuer)
        return Status::corruption("the node returned a record the network does not vouch for: " + issuer.message());
    if (r.expires_at_s <= now_s()) return Status::not_found("the record has expired");
    return opened;
}

Result<uint64_t> Client::set_vcard(const VCard& card) {
    for (auto [field, max, name] : {std::tuple{&card.name, kMaxDisplayNameBytes, "name"},
                                    std::tuple{&card.status, kMaxStatusTextBytes, "status"},
                                    std::tuple{&card.avatar, kMaxAvatarRefBytes, "avatar"},
                                    std::tuple{&card.pgp_key, kMaxPgpKeyBytes, "OpenPGP key"}})
        if (field->size() > max)
            return Status::invalid(std::string("the ") + name + " is longer than " + std::to_string(max) + " bytes");
    Record r;
    r.type = RecordType::kVCard;
    VCard full = card;
    if (full.encryption_key.empty() && profile_.key) {
        full.encryption_key = profile_.key->getPublicKey().toString();
        while (!full.encryption_key.empty() && full.encryption_key.back() == '\0') full.encryption_key.pop_back();
    }
    r.body = encode_vcard(full);
    return publish(std::move(r));
}

Result<VCard> Client::vcard(const std::string& user_id) {
    auto r = fetch(RecordType::kVCard, user_id);
    if (!r) return r.status();
    return decode_vcard(r->record.body);
}

Result<PrivacyList> Client::privacy() {
    if (!profile_.registered()) return Status::invalid("this profile has no user yet: register and verify first");
    if (profile_.privacy) return *profile_.privacy;
    // A profile without its own copy: only a list read from the network may
    // be edited, since "not found" may be a node's failure to find it.
    auto r = fetch(RecordType::kPrivacy, profile_.user_id);
    if (!r)
        return Status(r.status().code() == Code::kNotFound ? Code::kUnavailable : r.status().code(),
                      "cannot read your privacy list (" + r.status().message() +
                          ") and this profile holds no copy: not changing it; try again later or another --node");
    auto list = open_privacy(r->record.body, *profile_.key);
    if (!list) {
        if (list.status().code() == Code::kCorruption)
            return Status::corruption("your privacy list cannot be opened with this profile's key");
        return list.status();
    }
    profile_.privacy = *list;
    DHTALK_TRY(profile_.save_privacy());
    return list;
}

Status Client::set_privacy(const PrivacyList& list) {
    // A device added to a user waits for the list their other devices hold:
    // an edit from its empty one would replace it on all of them.
    if (profile_.privacy && profile_.privacy_ms == 0) {
        // A device just verified learns at its first login whether it is the
        // user's first; any other, when it finds itself alone on the list.
        if (!connection_ || !logged_in_) DHTALK_TRY(connect(true));
        if (profile_.privacy_ms == 0) DHTALK_TRY(list_this_device());
    }
    if (profile_.privacy && profile_.privacy_ms == 0)
        return Status::unavailable("your privacy list has not come from your other devices yet: run 'dhtalk inbox' on "
                                   "one of them, then try again here (or, if you no longer have them, remove them: "
                                   "'dhtalk devices remove ID')");
    auto sealed = seal_privacy(list, *profile_.key);
    if (!sealed) return sealed.status();
    // The profile's copy first: it is what the user asked for, and what the
    // next edit starts from if publishing fails now.
    profile_.privacy = list;
    // Later than the list it replaces, whatever this device's clock says:
    // the user's other devices take only a newer one.
    profile_.privacy_ms = std::max<int64_t>(to_unix_millis(system_clock::now()), profile_.privacy_ms + 1);
    DHTALK_TRY(profile_.save_privacy());
    DHTALK_TRY(profile_.save_state());
    Record r;
    r.type = RecordType::kPrivacy;
    r.body = std::move(sealed).value();
    auto published = publish(std::move(r));
    if (!published) return published.status();
    DHTALK_TRY(give_privacy());
    // The user's other devices hold it too, and have their nodes enforce it.
    auto lock = lock_messages();
    if (!lock) return lock.status();
    if (Status shared = share_privacy({}); !shared)
        return Status(shared.code(), "the list is set here, but not yet on your other devices: " + shared.message());
    return Status::ok();
}

Status Client::give_privacy() {
    if (!profile_.privacy || profile_.privacy_ms == 0) return Status::ok();
    return call("privacy.set", privacy_params(*profile_.privacy, profile_.privacy_ms)).status();
}

Result<MediaPublished> Client::publish_media(const std::filesystem::path& file, const std::string& type) {
    if (type.size() > kMaxMediaTypeBytes) return Status::invalid("the media type is too long");
    auto content = read_file(file, kMaxMediaFileBytes);
    if (!content) return content.status();
    if (!connection_ || !logged_in_) DHTALK_TRY(connect(true));
    MediaPublished out;
    out.reference.user_id = profile_.user_id;
    out.reference.content_key = crypto::random_key();
    auto encrypted = crypto::encrypt_blob(out.reference.content_key, *content);
    if (!encrypted) return encrypted.status();
    out.reference.file_id = crypto::sha256(*encrypted);
    out.encrypted_file = profile_.dir / "media" / crypto::to_hex(out.reference.file_id);
    DHTALK_TRY(ensure_private_dir(profile_.dir / "media"));
    DHTALK_TRY(write_file_atomic(out.encrypted_file, *encrypted, 0600));
    out.metadata.file_id = out.reference.file_id;
    out.metadata.size = content->size();
    out.metadata.type = type;
    out.metadata.holder = node_id_;
    out.metadata.expires_at_s = now_s() + (kMaxRecordLifetime - minutes(1)).count();
    auto body = crypto::encrypt_blob(out.reference.metadata_key(), encode_media(out.metadata));
    if (!body) return body.status();
    Record r;
    r.type = RecordType::kMedia;
    r.locator = out.reference.locator();
    r.body = std::move(body).value();
    auto published = publish(std::move(r));
    if (!published) return published.status();
    return out;
}

Result<MediaMetadata> Client::media_info(const MediaReference& ref) {
    auto r = fetch(RecordType::kMedia, ref.user_id, ref.locator());
    if (!r) return r.status();
    auto plain = crypto::decrypt_blob(ref.metadata_key(), r->record.body);
    if (!plain) return Status::corruption("the media metadata does not open with this reference");
    auto meta = decode_media(*plain);
    if (!meta) return meta.status();
    if (meta->file_id != ref.file_id) return Status::corruption("the media metadata describes another file");
    return meta;
}

}  // namespace dhtalk::client
