#pragma once
// The checks every signed request between members passes before a service
// (the registrar, the inbox or media holder) acts on it: for this network
// and this node, signed by the fast key the roster lists for its sender,
// and sent within `max_skew` of this node's clock; and the asking side's
// exchange of such a request for a checked answer. Thread-safe, no state.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/status.h"
#include "crypto/fast_key.h"
#include "crypto/node_identity.h"
#include "crypto/signing.h"
#include "net/peer_net.h"

namespace dhtalk {

struct MemberRequest {
    const char* what;  // "a registrar request": how errors name it
    uint32_t network_id;
    const std::string& from;
    const std::string& to;
    int64_t sent_ms;
    std::string_view body;  // what the signature covers
    std::string_view signature;
};

struct MemberRequestRules {
    uint32_t network_id;
    const std::string& self;       // this node's id
    const std::string& fast_key;   // the sender's, from the roster; empty if it is no member
    WallTime now;
    std::chrono::seconds max_skew;
};

// kInvalidArgument (another network or node, too far from the clock) or
// kPermissionDenied (not a member, not its signature), naming why.
Status check_member_request(const MemberRequest& r, const MemberRequestRules& rules);

// The asking side: how to reach the service, and the member asked.
struct MemberCall {
    PeerNet& net;
    const crypto::NodeIdentity& identity;  // signs with its fast key
    uint32_t network_id;
    WallTime now;
    const char* path;  // "/v1/inbox"
    size_t max_answer_bytes;
};
struct AskedMember {
    const std::string& node_id;
    const std::string& endpoint;  // its peer service
    const std::string& fast_key;  // from the roster: its answers are signed with it
    std::string who;              // "inbox holder 1a2b3c4d", for errors
};

// Fills in `r`'s network, sender, receiver and time, signs it, POSTs it,
// and returns the answer once it checks: from that member, for this
// network, answering this very request (request_digest, its SHA-256), and
// signed with the member's fast key. kUnavailable, naming the member, for
// anything else. `Request` and `Answer` are the messages of one service
// (body_of() and encode() found beside them).
template <class Request, class Answer>
Result<Answer> ask_member(const MemberCall& call, const AskedMember& to, Request r,
                          Result<Answer> (*decode)(std::string_view)) {
    r.network_id = call.network_id;
    r.from = call.identity.node_id_hex();
    r.to = to.node_id;
    r.sent_ms = to_unix_millis(call.now);
    auto signature = crypto::sign(*call.identity.fast_key, body_of(r));
    if (!signature) return signature.status();
    r.signature = std::move(signature).value();
    const std::string request = encode(r);
    auto reply = call.net.exchange(to.endpoint, PeerCall{"POST", call.path, request, {}}, call.max_answer_bytes);
    if (!reply) return Status::unavailable(to.who + " did not answer: " + reply.status().message());
    if (reply->status == 503) return Status::unavailable(to.who + " is busy: " + reply->body);
    if (reply->status != 200) return Status::unavailable(to.who + " refused the request: " + reply->body);
    auto a = decode(reply->body);
    if (!a) return Status::unavailable(to.who + " answered with a malformed answer: " + a.status().message());
    if (a->from != to.node_id || a->network_id != call.network_id || a->request_digest != crypto::sha256(request))
        return Status::unavailable(to.who + " answered another request");
    if (!crypto::verify_fast(to.fast_key, body_of(*a), a->signature))
        return Status::unavailable(to.who + " answered with an answer its key did not sign");
    return a;
}

}  // namespace dhtalk
