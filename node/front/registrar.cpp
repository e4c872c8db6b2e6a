#include "node/front/registrar.h"

#include <algorithm>

#include "common/log.h"
#include "crypto/aead.h"
#include "crypto/fast_key.h"
#include "crypto/fast_seal.h"
#include "crypto/signing.h"
#include "crypto/user_id.h"
#include "dht/placement.h"
#include "node/front/member_request.h"
#include "node/trust/courier.h"

namespace dhtalk {

using namespace std::chrono;

namespace {

constexpr const char* kRegistrarPath = "/v1/registrar";
constexpr size_t kMaxRecentRequests = 100000;  // the replay set; past it new requests wait

uint32_t crypto_random_u32() { return static_cast<uint32_t>(crypto::random_u64()); }

std::string random_nonce() {
    std::string nonce(kRegistrarNonceBytes, '\0');
    crypto::random_bytes({reinterpret_cast<uint8_t*>(nonce.data()), nonce.size()});
    return nonce;
}

}  // namespace

std::vector<RegistrarPeer> rank_registrars(const std::string& user_id, std::vector<RegistrarPeer> members,
                                           size_t count) {
    std::vector<std::string> ids;
    for (const auto& m : members) ids.push_back(m.node_id);
    std::vector<RegistrarPeer> out;
    for (const auto& id : rank_members("registrar", user_id, std::move(ids))) {
        if (out.size() == count) break;
        auto it = std::find_if(members.begin(), members.end(), [&](const RegistrarPeer& m) { return m.node_id == id; });
        out.push_back(std::move(*it));
    }
    return out;
}

Registrar::Registrar(RegistrarConfig config, const crypto::NodeIdentity& identity,
                     std::unique_ptr<VerificationSender> sender, const Clock& clock, Drivers& drivers, PeerNet& net)
    : config_(std::move(config)),
      identity_(identity),
      self_(identity.node_id_hex()),
      sender_(std::move(sender)),
      clock_(clock),
      net_(net),
      registrations_(config_.limits, crypto_random_u32, config_.store),
      sms_(drivers, "sms", config_.max_queued),
      peers_(drivers, "registrar-peers", config_.max_queued) {}

void Registrar::stop() {
    sms_.stop();
    peers_.stop();
}

void Registrar::forget_stale() {
    std::lock_guard lock(mutex_);
    registrations_.forget_stale(clock_.wall_now());
}

std::vector<RegistrarPeer> Registrar::registrars_for(const std::string& user_id) const {
    if (!members_) return {};
    return rank_registrars(user_id, members_(), kRegistrarCandidates);
}

void Registrar::request_code(const std::string& e164, const std::string& user_id, const std::string& address,
                             Done done) {
    auto registrars = registrars_for(user_id);
    if (registrars.empty() || registrars.front().node_id == self_) {
        Status st = send_code_here(e164, user_id, address, done);
        if (!st) done(st);
        return;
    }
    pass_on(std::move(registrars), RegistrarRequest::Kind::kCode, user_id, address, e164, std::move(done));
}

void Registrar::check_code(const std::string& user_id, const std::string& code, const std::string& address,
                           Done done) {
    auto registrars = registrars_for(user_id);
    if (registrars.empty()) return done(check_code_here(user_id, code, address));
    if (registrars.front().node_id == self_) {
        Status here = check_code_here(user_id, code, address);
        // No code here: the stand-in may have sent it (this node could not
        // be reached then); it is asked as in pass_on().
        if (here.code() != Code::kNotFound || registrars.size() == 1) return done(here);
        registrars.erase(registrars.begin());
        // A stand-in that cannot be asked leaves what this node knows.
        done = [done, here](Status s) { done(s.code() == Code::kUnavailable ? here : s); };
    }
    pass_on(std::move(registrars), RegistrarRequest::Kind::kCheck, user_id, address, code, std::move(done));
}

void Registrar::pass_on(std::vector<RegistrarPeer> registrars, RegistrarRequest::Kind kind, const std::string& user_id,
                        const std::string& address, const std::string& secret, Done done) {
    Status admitted;
    {
        std::lock_guard lock(mutex_);
        admitted = registrations_.admit_address(address, clock_.wall_now());
    }
    if (!admitted) return done(admitted);
    auto job = [this, registrars = std::move(registrars), kind, user_id, address, secret, done] {
        Status result = Status::unavailable("no registrar of this number can be reached: try again later");
        for (const auto& r : registrars) {
            // A check goes on past a candidate with no code waiting: the code
            // is at the one that sent it, the registrar or, when that could
            // not be reached, its stand-in. A wrong code ends it there.
            if (r.node_id == self_) {  // this node stands in for the registrar
                if (kind == RegistrarRequest::Kind::kCheck) {
                    result = check_code_here(user_id, secret, address);
                    if (result.code() == Code::kNotFound) continue;
                    return done(result);
                }
                Status st = send_code_here(secret, user_id, address, done);
                if (!st) done(st);
                return;
            }
            const auto asked_at = steady_clock::now();
            Answer a = ask(r, kind, user_id, address, secret);
            // Which member answered for a number, and how soon: what an
            // operator needs when a registration fails.
            DHTALK_LOG(kInfo, "registrar", (kind == RegistrarRequest::Kind::kCode ? "code" : "check") << " for " << user_id
                           << ": registrar " << r.node_id << " in "
                           << duration_cast<milliseconds>(steady_clock::now() - asked_at).count() << " ms: "
                           << (a.reached ? a.status.to_string() : "cannot be reached: " + a.status.message()));
            if (!a.reached) continue;
            result = a.status;
            if (kind == RegistrarRequest::Kind::kCheck && result.code() == Code::kNotFound) continue;
            break;
        }
        done(result);
    };
    if (!peers_.post(std::move(job)))
        done(Status::exhausted("this node is passing on too many registrations: try again shortly"));
}

Registrar::Answer Registrar::ask(const RegistrarPeer& peer, RegistrarRequest::Kind kind, const std::string& user_id,
                                 const std::string& address, const std::string& secret) {
    auto fail = [&](Code code, const std::string& why) {
        return Answer{true, Status(code, "the registrar of this number (" + peer.node_id + ") " + why)};
    };
    RegistrarRequest r;
    r.kind = kind;
    r.network_id = config_.network_id;
    r.from = self_;
    r.to = peer.node_id;
    r.user_id = user_id;
    r.address = address;
    r.sent_ms = to_unix_millis(clock_.wall_now());
    r.nonce = random_nonce();
    auto sealed = crypto::seal_to_fast_key(peer.fast_key, kRegistrarSealPurpose, secret);
    if (!sealed) return fail(Code::kInternal, "cannot be written to: " + sealed.status().message());
    r.sealed = std::move(sealed).value();
    auto signature = crypto::sign(*identity_.fast_key, body_of(r));
    if (!signature) return fail(Code::kInternal, "cannot be asked: " + signature.status().message());
    r.signature = std::move(signature).value();
    const std::string request = encode(r);

    // Only a registrar that cannot have heard the request (no connection, or
    // busy) is passed over: one that may have acted on it keeps it, so a
    // right code is not spent there while the stand-in says it has none.
    auto answer = net_.exchange(peer.endpoint, PeerCall{"POST", kRegistrarPath, request, {}}, kMaxRegistrarMessageBytes);
    if (!answer) {
        if (answer.status().code() == Code::kUnavailable) return Answer{false, answer.status()};
        return fail(Code::kUnavailable, "did not answer: " + answer.status().message() + "; try again");
    }
    if (answer->status == 503) return Answer{false, Status::unavailable(answer->body)};
    if (answer->status != 200) return fail(Code::kUnavailable, "refused the request: " + answer->body);
    auto v = decode_registrar_verdict(answer->body);
    if (!v) return fail(Code::kCorruption, "answered with a malformed verdict: " + v.status().message());
    if (v->from != peer.node_id || v->network_id != config_.network_id || v->request_digest != crypto::sha256(request))
        return fail(Code::kCorruption, "answered with a verdict on another request");
    if (!crypto::verify_fast(peer.fast_key, body_of(*v), v->signature))
        return fail(Code::kCorruption, "answered with a verdict its key did not sign");
    return Answer{true, v->status()};
}

Status Registrar::send_code_here(const std::string& e164, const std::string& user_id, const std::string& address,
                                 Done done) {
    Result<std::string> code = Status::internal("unset");
    {
        std::lock_guard lock(mutex_);
        code = registrations_.start(user_id, address, clock_.wall_now());
    }
    if (!code) return code.status();
    auto job = [this, e164, code = *code, done] {
        Status sent = sender_->send(e164, code);
        if (!sent) {
            DHTALK_LOG(kWarning, "registrar", "cannot deliver a verification code: " << sent.message());
            return done(Status::unavailable("cannot deliver the code: " + sent.message()));
        }
        done(Status::ok());
    };
    if (!sms_.post(std::move(job))) return Status::exhausted("this node is sending too many codes: try again shortly");
    return Status::ok();
}

Status Registrar::check_code_here(const std::string& user_id, const std::string& code, const std::string& address) {
    std::lock_guard lock(mutex_);
    return registrations_.verify(user_id, code, address, clock_.wall_now());
}

Status Registrar::refuse_replay(const std::string& name, WallTime now) {
    // Forgotten in the order heard: each is kept for the same time.
    while (!recent_order_.empty() && recent_order_.front().first <= now) {
        recent_.erase(recent_order_.front().second);
        recent_order_.pop_front();
    }
    if (recent_.count(name)) return Status::invalid("this request was heard before (a replay)");
    if (recent_.size() >= kMaxRecentRequests) return Status::busy("too many registrations at once: try again shortly");
    recent_.insert(name);
    recent_order_.emplace_back(now + 2 * config_.max_skew, name);
    return Status::ok();
}

Result<std::string> Registrar::on_registrar_request(std::string_view bytes) {
    auto r = decode_registrar_request(bytes);
    if (!r) return r.status();
    std::string fast_key;
    if (members_)
        for (const auto& m : members_())
            if (m.node_id == r->from) fast_key = m.fast_key;
    const WallTime now = clock_.wall_now();
    DHTALK_TRY(check_member_request({"a registrar request", r->network_id, r->from, r->to, r->sent_ms, body_of(*r), r->signature},
                                    {config_.network_id, self_, fast_key, now, config_.max_skew}));
    if (!crypto::is_user_id(config_.user_id_scheme, r->user_id)) return Status::invalid("not a user id: " + r->user_id);
    {
        std::lock_guard lock(mutex_);
        DHTALK_TRY(refuse_replay(r->from + "/" + r->nonce, now));
    }
    auto secret = crypto::open_with_fast_key(*identity_.fast_key, kRegistrarSealPurpose, r->sealed);
    if (!secret) return Status::invalid("a registrar request sealed to another key");

    RegistrarVerdict v;
    v.network_id = config_.network_id;
    v.from = self_;
    v.request_digest = crypto::sha256(bytes);
    Status answer;
    if (r->kind == RegistrarRequest::Kind::kCode) {
        auto e164 = crypto::normalize_e164(*secret);
        if (!e164) return Status::invalid("a registrar request without a phone number");
        auto user_id = crypto::derive_user_id(config_.user_id_scheme, *e164);
        if (!user_id || *user_id != r->user_id) return Status::invalid("the sealed number is not the user id's");
        answer = send_code_here(*e164, r->user_id, r->address, [from = r->from](const Status& sent) {
            if (!sent) DHTALK_LOG(kWarning, "registrar", "a code asked for by " << from << ": " << sent.message());
        });
        if (answer) v.expires_in_s = code_lifetime_s();
    } else {
        if (secret->size() > kVerificationCodeDigits) return Status::invalid("a registrar request with a long code");
        answer = check_code_here(r->user_id, *secret, r->address);
    }
    v.code = answer.code();
    v.message = answer.message().substr(0, 256);
    auto signature = crypto::sign(*identity_.fast_key, body_of(v));
    if (!signature) return signature.status();
    v.signature = std::move(signature).value();
    return encode(v);
}

}  // namespace dhtalk
