#include "node/trust/peer_service.h"

#include <msgpack.hpp>

#include "common/address_bucket.h"
#include "common/log.h"
#include "common/msgpack_io.h"
#include "roster/roster_documents.h"

namespace dhtalk {
namespace {

HttpResponse answer(const Status& s) {
    if (s.is_ok()) return {202, "text/plain", ""};
    if (s.code() == Code::kAlreadyExists) return {200, "text/plain", ""};
    return {s.code() == Code::kBusy ? 503 : 400, "text/plain", s.message() + "\n"};
}

// A service's signed answer to a member's request, or why it refused it.
HttpResponse signed_answer(Result<std::string> reply) {
    if (!reply) return answer(reply.status());
    return {200, "application/msgpack", std::move(reply).value()};
}

}  // namespace

Result<std::unique_ptr<PeerService>> PeerService::start(PeerNet& net, const std::string& address, uint16_t port,
                                                        const Clock& clock) {
    std::unique_ptr<PeerService> s(new PeerService(clock));
    PeerHttpLimits limits;
    limits.max_body_bytes = kMaxPeerBodyBytes;
    PeerService* self = s.get();
    auto server = net.listen(address.empty() ? "0.0.0.0" : address, port, limits,
                                        [self](const HttpRequest& req) { return self->serve(req); });
    if (!server) return server.status();
    s->server_ = std::move(server).value();
    s->port_ = s->server_->port();
    return s;
}

HttpResponse PeerService::serve(const HttpRequest& req) {
    if (!limiter_.allow(address_bucket(req.remote_addr)))  // IPv6 counts by /64
        return answer(Status::busy("too many requests from " + req.remote_addr));
    const bool post = req.method == "POST";
    const Status starting = Status::busy("the node is starting");
    if (req.path == "/v1/registrar" && post) {
        RegistrarHandler* r = registrar_.load();
        return r ? signed_answer(r->on_registrar_request(req.body)) : answer(starting);
    }
    if (req.path == "/v1/inbox" && post) {
        InboxHandler* inbox = inbox_.load();
        return inbox ? signed_answer(inbox->on_inbox_request(req.body)) : answer(starting);
    }
    if (req.path == "/v1/media" && post) {
        MediaHandler* media = media_.load();
        return media ? signed_answer(media->on_media_request(req.body)) : answer(starting);
    }
    if (req.path == "/v1/audit" && post) {
        AuditHandler* audit = audit_.load();
        return audit ? signed_answer(audit->on_audit_request(req.body)) : answer(starting);
    }
    PeerHandler* h = handler_.load();
    if (!h) return answer(starting);
    if (req.path == "/v1/apply" && post)
        return answer(h->on_application(req.body, PeerRequest{req.remote_addr, req.header(kOriginHeader)}));
    if (req.path == "/v1/ballot" && post) return answer(h->on_ballot(req.body));
    if (req.path == "/v1/epoch" && post) return answer(h->on_epoch(req.body));
    if (req.path == "/v1/member-update" && post) return answer(h->on_member_update(req.body));
    if (req.path == "/v1/roster" && req.method == "GET") {
        uint64_t from = 0;
        const auto text = req.param("from");
        if (!text.empty()) {
            if (text.size() > 19 || text.find_first_not_of("0123456789") != std::string::npos)
                return answer(Status::invalid("'from' must be an epoch number"));
            from = std::stoull(text);
        }
        return {200, "application/msgpack", encode_epoch_list(h->epochs_from(from, kMaxEpochsPerAnswer))};
    }
    return {404, "text/plain", "no such request: " + req.method + " " + req.path + "\n"};
}

PeerService::~PeerService() { stop(); }

void PeerService::stop() {
    if (server_) server_->stop();
}

std::string encode_epoch_list(const std::vector<std::string>& epochs) {
    msgpack::sbuffer buf;
    msgpack::packer<msgpack::sbuffer> pk(buf);
    pk.pack_array(static_cast<uint32_t>(epochs.size()));
    for (const auto& e : epochs) {
        pk.pack_bin(static_cast<uint32_t>(e.size()));
        pk.pack_bin_body(e.data(), static_cast<uint32_t>(e.size()));
    }
    return {buf.data(), buf.size()};
}

Result<std::vector<std::string>> decode_epoch_list(std::string_view body) {
    if (body.size() > kMaxEpochListBytes) return Status::invalid("roster answer too large");
    try {
        const msgpack::unpack_limit limit(kMaxEpochsPerAnswer, 0, 0, kMaxDocumentBytes, 0, 2);
        auto h = unpack_whole(body.data(), body.size(), limit, "roster answer");
        const auto& o = h.get();
        if (o.type != msgpack::type::ARRAY) return Status::invalid("roster answer is not a list");
        std::vector<std::string> out;
        for (const auto& e : o.via.array) {
            if (e.type != msgpack::type::BIN) return Status::invalid("roster answer holds a non-document");
            out.emplace_back(e.via.bin.ptr, e.via.bin.size);
        }
        return out;
    } catch (const DecodeError& e) {
        return Status::invalid(e.what);
    } catch (const std::exception& e) {
        return Status::invalid(std::string("malformed roster answer: ") + e.what());
    }
}

}  // namespace dhtalk
