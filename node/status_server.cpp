#include "node/status_server.h"

#include "dht/issuance_ledger.h"

#include <httplib.h>


#include "common/json.h"
#include "common/log.h"

namespace dhtalk {

namespace {

void json_answer(httplib::Response& res, int status, const Json::Value& v) {
    res.status = status;
    res.set_content(json::to_compact(v) + "\n", "application/json");
}

void json_error(httplib::Response& res, int status, const std::string& message) {
    Json::Value v(Json::objectValue);
    v["error"] = message;
    json_answer(res, status, v);
}

bool constant_time_equal(const std::string& a, const std::string& b) {
    if (a.size() != b.size()) return false;
    unsigned char diff = 0;
    for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
    return diff == 0;
}

// Admin requests come from this machine with the secret, or not at all.
bool authorised(const httplib::Request& req, httplib::Response& res, const std::string& secret) {
    const bool local = req.remote_addr == "127.0.0.1" || req.remote_addr == "::1" ||
                       req.remote_addr.rfind("::ffff:127.", 0) == 0;
    if (!local) {
        json_error(res, 403, "the admin interface answers only local requests");
        return false;
    }
    if (secret.empty() || !constant_time_equal(req.get_header_value(kAdminSecretHeader), secret)) {
        json_error(res, 401, "missing or wrong admin secret (see admin.secret in the data directory)");
        return false;
    }
    return true;
}

}  // namespace

Result<std::unique_ptr<StatusServer>> StatusServer::start(const std::string& address, uint16_t port,
                                                          Provider provider, AdminHandler* admin,
                                                          std::string admin_secret) {
    std::unique_ptr<StatusServer> s(new StatusServer());
    s->server_ = std::make_unique<httplib::Server>();
    auto& srv = *s->server_;
    srv.set_payload_max_length(4096);
    srv.set_read_timeout(5, 0);
    srv.set_write_timeout(5, 0);
    srv.set_keep_alive_max_count(16);
    srv.Get("/status", [provider](const httplib::Request&, httplib::Response& res) {
        res.set_content(json::to_pretty(to_json(provider())) + "\n", "application/json");
    });
    srv.Get("/metrics", [provider](const httplib::Request&, httplib::Response& res) {
        res.set_content(to_prometheus(provider()), "text/plain; version=0.0.4");
    });
    if (admin) {
        srv.Get("/admin/pending", [admin, admin_secret](const httplib::Request& req, httplib::Response& res) {
            if (!authorised(req, res, admin_secret)) return;
            auto pending = admin->admin_pending();
            if (!pending)
                json_error(res, 409, pending.status().message());
            else
                json_answer(res, 200, *pending);
        });
        srv.Get("/admin/audit", [admin, admin_secret](const httplib::Request& req, httplib::Response& res) {
            if (!authorised(req, res, admin_secret)) return;
            uint32_t days = 7;
            if (req.has_param("days")) {
                const std::string text = req.get_param_value("days");
                if (text.empty() || text.size() > 2 || text.find_first_not_of("0123456789") != std::string::npos ||
                    std::stoul(text) < 1 || std::stoul(text) > IssuanceLedger::kKeptDays) {
                    json_error(res, 400, "days must be a number from 1 to " + std::to_string(IssuanceLedger::kKeptDays));
                    return;
                }
                days = static_cast<uint32_t>(std::stoul(text));
            }
            auto report = admin->admin_audit(days);
            if (!report)
                json_error(res, 409, report.status().message());
            else
                json_answer(res, 200, *report);
        });
        srv.Post("/admin/vote", [admin, admin_secret](const httplib::Request& req, httplib::Response& res) {
            if (!authorised(req, res, admin_secret)) return;
            auto body = json::parse_object(req.body, 4096);
            if (!body) {
                json_error(res, 400, body.status().message());
                return;
            }
            Status s = admin->admin_vote(*body);
            if (!s) {
                json_error(res, s.code() == Code::kNotFound ? 404 : 400, s.message());
                return;
            }
            Json::Value ok(Json::objectValue);
            ok["ok"] = true;
            json_answer(res, 200, ok);
        });
    }
    int bound = port;
    try {
        if (port == 0) {
            bound = srv.bind_to_any_port(address);
        } else if (!srv.bind_to_port(address, port)) {
            bound = -1;
        }
    } catch (const std::exception& e) {
        return Status::busy("cannot serve HTTP on " + address + ":" + std::to_string(port) + ": " + e.what());
    }
    if (bound <= 0)
        return Status::busy("cannot serve HTTP on " + address + ":" + std::to_string(port) +
                            " (address not local, or port in use)");
    s->port_ = static_cast<uint16_t>(bound);
    s->listener_.start(srv, "http");
    return s;
}

StatusServer::~StatusServer() { stop(); }

void StatusServer::stop() { listener_.stop(); }

}  // namespace dhtalk
