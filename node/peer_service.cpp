#include "node/peer_service.h"

#include <httplib.h>

#include <thread>
#include <msgpack.hpp>

#include "common/address_bucket.h"
#include "common/log.h"
#include "common/msgpack_io.h"
#include "node/courier.h"
#include "node/roster_documents.h"

namespace dhtalk {
namespace {

void answer(httplib::Response& res, const Status& s) {
    if (s.is_ok()) {
        res.status = 202;
    } else if (s.code() == Code::kAlreadyExists) {
        res.status = 200;
    } else if (s.code() == Code::kBusy) {
        res.status = 503;
        res.set_content(s.message() + "\n", "text/plain");
    } else {
        res.status = 400;
        res.set_content(s.message() + "\n", "text/plain");
    }
}

}  // namespace

Result<std::unique_ptr<PeerService>> PeerService::start(const std::string& address, uint16_t port) {
    std::unique_ptr<PeerService> s(new PeerService());
    auto* self = s.get();
    // Whether the caller's address is within its rate (else answered 503).
    auto allowed = [self](const httplib::Request& req, httplib::Response& res) {
        if (self->limiter_.allow(address_bucket(req.remote_addr))) return true;  // IPv6 counts by /64
        answer(res, Status::busy("too many requests from " + req.remote_addr));
        return false;
    };
    // Runs `f` with the attached handler, or answers 503 before there is one.
    auto with_handler = [self, allowed](const httplib::Request& req, httplib::Response& res, const auto& f) {
        if (!allowed(req, res)) return;
        PeerHandler* h = self->handler_.load();
        if (!h) {
            answer(res, Status::busy("the node is starting"));
            return;
        }
        f(*h);
    };
    s->server_ = std::make_unique<httplib::Server>();
    auto& srv = *s->server_;
    srv.set_payload_max_length(kMaxPeerBodyBytes);
    srv.set_read_timeout(5, 0);
    srv.set_write_timeout(5, 0);
    srv.Post("/v1/apply", [with_handler](const httplib::Request& req, httplib::Response& res) {
        with_handler(req, res, [&](PeerHandler& h) {
            PeerRequest from{req.remote_addr, req.get_header_value(kOriginHeader)};
            answer(res, h.on_application(req.body, from));
        });
    });
    srv.Post("/v1/ballot", [with_handler](const httplib::Request& req, httplib::Response& res) {
        with_handler(req, res, [&](PeerHandler& h) { answer(res, h.on_ballot(req.body)); });
    });
    srv.Post("/v1/epoch", [with_handler](const httplib::Request& req, httplib::Response& res) {
        with_handler(req, res, [&](PeerHandler& h) { answer(res, h.on_epoch(req.body)); });
    });
    srv.Post("/v1/registrar", [self, allowed](const httplib::Request& req, httplib::Response& res) {
        if (!allowed(req, res)) return;
        RegistrarHandler* r = self->registrar_.load();
        if (!r) {
            answer(res, Status::busy("the node is starting"));
            return;
        }
        auto verdict = r->on_registrar_request(req.body);
        if (!verdict) {
            answer(res, verdict.status());
            return;
        }
        res.status = 200;
        res.set_content(*verdict, "application/msgpack");
    });
    srv.Get("/v1/roster", [with_handler](const httplib::Request& req, httplib::Response& res) {
        uint64_t from = 0;
        const auto text = req.get_param_value("from");
        if (!text.empty()) {
            if (text.size() > 19 || text.find_first_not_of("0123456789") != std::string::npos) {
                answer(res, Status::invalid("'from' must be an epoch number"));
                return;
            }
            from = std::stoull(text);
        }
        with_handler(req, res, [&](PeerHandler& h) {
            res.set_content(encode_epoch_list(h.epochs_from(from, kMaxEpochsPerAnswer)), "application/msgpack");
        });
    });
    const std::string host = address.empty() ? "0.0.0.0" : address;
    const int bound = port == 0 ? srv.bind_to_any_port(host) : (srv.bind_to_port(host, port) ? port : -1);
    if (bound <= 0) return Status::busy("cannot serve peers on TCP " + host + ":" + std::to_string(port));
    s->port_ = static_cast<uint16_t>(bound);
    s->listener_.start(srv, "peers");
    return s;
}

PeerService::~PeerService() { stop(); }

void PeerService::stop() { listener_.stop(); }

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
