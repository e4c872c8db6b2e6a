#pragma once
// PeerService: how nodes exchange the trusted network's documents, over HTTP
// on the node's DHT port number (TCP beside its UDP). Every document is
// signed and verified by its receiver, so the transport needs no
// authentication of its own; it only bounds what it reads.
//
//   POST /v1/apply    an application (from a node outside the network)
//   POST /v1/ballot   a ballot
//   POST /v1/epoch    a roster epoch
//   POST /v1/member-update  a member's member update (where clients reach it)
//   GET  /v1/roster?from=N   the epochs from N on, msgpack [bin, ...]
//   POST /v1/registrar  a member's registrar request (registrar_messages.h),
//                       answered 200 with the registrar's signed verdict
//   POST /v1/inbox      a member's inbox request (inbox_messages.h), answered
//                       200 with the holder's signed answer
//   POST /v1/audit      a member's issuance audit request (audit_messages.h),
//                       answered 200 with this node's signed ledger
//   POST /v1/media      a member's media chunk request (media_messages.h),
//                       answered 200 with the holder's signed answer
//
// Answers: 202 taken, 200 already held, 400 refused (the reason as text),
// 503 busy. The transport (net/peer_net.h; over TCP, peer_http_server.h)
// bounds every request in bytes and time, and connections per address;
// handlers run on its threads, so the PeerHandler must be thread-safe.

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/rate_limiter.h"
#include "common/status.h"
#include "net/peer_net.h"
#include "roster/roster_documents.h"

namespace dhtalk {

inline constexpr size_t kMaxPeerBodyBytes = 1 << 20;
inline constexpr size_t kMaxEpochsPerAnswer = 16;
inline constexpr size_t kMaxEpochListBytes = kMaxEpochsPerAnswer * (kMaxDocumentBytes + 16) + 16;
// Per peer address. Every document a member relays reaches each node once per
// member, and nodes sharing an address (a test network on loopback) share the
// budget: generous, yet it caps what one address can make a node verify.
inline constexpr double kPeerRequestsPerSecond = 1000;
inline constexpr double kPeerRequestBurst = 4000;

// Where a POST came from: the peer's address, and the origin a relaying
// member says the document first came from (empty if none is claimed).
struct PeerRequest {
    std::string address;
    std::string origin;
};

class PeerHandler {
public:
    virtual ~PeerHandler() = default;
    virtual Status on_application(std::string_view doc, const PeerRequest& from) = 0;
    virtual Status on_ballot(std::string_view doc) = 0;
    virtual Status on_epoch(std::string_view doc) = 0;
    virtual Status on_member_update(std::string_view doc) = 0;
    // Encoded epochs from `from` on, at most `max`.
    virtual std::vector<std::string> epochs_from(uint64_t from, size_t max) = 0;
};

// The registrar's side of registration (registrar.h), thread-safe.
class RegistrarHandler {
public:
    virtual ~RegistrarHandler() = default;
    // A member's request: the signed verdict to answer with (200), or why
    // the request itself is refused (400).
    virtual Result<std::string> on_registrar_request(std::string_view request) = 0;
};

// A holder's side of the inboxes (node/front/inbox_service.h), thread-safe.
class InboxHandler {
public:
    virtual ~InboxHandler() = default;
    // A member's request: the signed answer (200), or why the request itself
    // is refused (400).
    virtual Result<std::string> on_inbox_request(std::string_view request) = 0;
};

// A member's side of the issuance audit (node/front/audit_service.h),
// thread-safe.
class AuditHandler {
public:
    virtual ~AuditHandler() = default;
    // A member's request: the signed answer (200), or why the request itself
    // is refused (400).
    virtual Result<std::string> on_audit_request(std::string_view request) = 0;
};

// A holder's side of the media chunks (node/front/media_service.h),
// thread-safe.
class MediaHandler {
public:
    virtual ~MediaHandler() = default;
    // A member's request: the signed answer (200), or why the request itself
    // is refused (400).
    virtual Result<std::string> on_media_request(std::string_view request) = 0;
};

class PeerService {
public:
    // Listens on `net` at `address:port` (port 0: any free one, which the
    // node then uses for its DHT too). Answers 503 until a handler is
    // attached. `clock` (the rate limiter's time) must outlive the service.
    static Result<std::unique_ptr<PeerService>> start(PeerNet& net, const std::string& address, uint16_t port,
                                                      const Clock& clock);
    ~PeerService();
    uint16_t port() const { return port_; }
    // `handler` must stay valid until stop().
    void attach(PeerHandler* handler) { handler_ = handler; }
    // `registrar` must stay valid until stop(); before, /v1/registrar answers 503.
    void attach_registrar(RegistrarHandler* registrar) { registrar_ = registrar; }
    // `inbox` must stay valid until stop(); before, /v1/inbox answers 503.
    void attach_inbox(InboxHandler* inbox) { inbox_ = inbox; }
    // `audit` must stay valid until stop(); before, /v1/audit answers 503.
    void attach_audit(AuditHandler* audit) { audit_ = audit; }
    // `media` must stay valid until stop(); before, /v1/media answers 503.
    void attach_media(MediaHandler* media) { media_ = media; }
    void stop();

private:
    explicit PeerService(const Clock& clock) : limiter_(kPeerRequestsPerSecond, kPeerRequestBurst, 4096, clock) {}
    HttpResponse serve(const HttpRequest& req);
    std::atomic<PeerHandler*> handler_{nullptr};
    std::atomic<RegistrarHandler*> registrar_{nullptr};
    std::atomic<InboxHandler*> inbox_{nullptr};
    std::atomic<AuditHandler*> audit_{nullptr};
    std::atomic<MediaHandler*> media_{nullptr};
    RateLimiter limiter_;
    uint16_t port_ = 0;
    std::unique_ptr<PeerListener> server_;  // last: stops before what it calls goes
};

// Encodes / decodes the body of GET /v1/roster.
std::string encode_epoch_list(const std::vector<std::string>& epochs);
Result<std::vector<std::string>> decode_epoch_list(std::string_view body);

}  // namespace dhtalk
