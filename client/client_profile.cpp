#include "client/client_profile.h"

#include <cstdlib>

#include "common/files.h"
#include "common/json.h"

namespace dhtalk::client {
namespace {

constexpr size_t kMaxProfileFile = 64 * 1024;
constexpr size_t kMaxRosterFile = 1 << 20;  // one roster epoch (kMaxDocumentBytes)

}  // namespace

std::filesystem::path default_profile_dir() {
    if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg && *xdg) return std::filesystem::path(xdg) / "dhtalk";
    if (const char* home = std::getenv("HOME"); home && *home) return std::filesystem::path(home) / ".config" / "dhtalk";
    return ".dhtalk";
}

Result<Profile> Profile::load(const std::filesystem::path& dir) {
    Profile p;
    p.dir = dir;
    std::error_code ec;
    if (!std::filesystem::exists(dir / "profile.json", ec)) return p;
    auto text = read_file(dir / "profile.json", kMaxProfileFile);
    if (!text) return text.status();
    auto j = json::parse_object(*text, kMaxProfileFile);
    if (!j) return Status::corruption((dir / "profile.json").string() + ": " + j.status().message());
    const auto& v = *j;
    p.phone = v["phone"].asString();
    p.user_id = v["user_id"].asString();
    p.network_id = v["network_id"].isUInt() ? v["network_id"].asUInt() : 0;
    p.last_sequence = v["last_sequence"].isUInt64() ? v["last_sequence"].asUInt64() : 0;
    p.privacy_ms = v["privacy_ms"].isInt64() ? v["privacy_ms"].asInt64() : 0;
    for (const auto& n : v["nodes"])
        if (n.isString()) p.nodes.push_back(n.asString());
    if (std::filesystem::exists(dir / "user.key", ec)) {
        auto key = read_file(dir / "user.key", kMaxProfileFile);
        if (!key) return key.status();
        try {
            p.key = std::make_shared<dht::crypto::PrivateKey>(dht::Blob(key->begin(), key->end()));
        } catch (const std::exception& e) {
            return Status::corruption((dir / "user.key").string() + " is not a private key: " + e.what());
        }
    }
    if (std::filesystem::exists(dir / "roster.epoch", ec)) {
        auto bytes = read_file(dir / "roster.epoch", kMaxRosterFile);
        if (!bytes) return bytes.status();
        p.roster = std::move(bytes).value();
    }
    if (std::filesystem::exists(dir / "privacy.list", ec)) {
        auto bytes = read_file(dir / "privacy.list", kMaxProfileFile);
        if (!bytes) return bytes.status();
        auto list = decode_privacy(*bytes);
        if (!list) return Status::corruption((dir / "privacy.list").string() + ": " + list.status().message());
        p.privacy = std::move(list).value();
    }
    if (std::filesystem::exists(dir / "user.crt", ec)) {
        auto cert = read_file(dir / "user.crt", kMaxProfileFile);
        if (!cert) return cert.status();
        p.certificate = std::move(cert).value();
    }
    return p;
}

Status Profile::save() const {
    DHTALK_TRY(ensure_private_dir(dir));
    if (key) {
        const auto pem = key->serialize();
        DHTALK_TRY(write_file_atomic(dir / "user.key", std::string(pem.begin(), pem.end()), 0600));
    }
    if (!certificate.empty()) DHTALK_TRY(write_file_atomic(dir / "user.crt", certificate, 0600));
    if (privacy) DHTALK_TRY(save_privacy());
    return save_state();
}

Status Profile::save_roster() const {
    if (roster.empty()) return Status::ok();
    DHTALK_TRY(ensure_private_dir(dir));
    return write_file_atomic(dir / "roster.epoch", roster, 0600);
}

Status Profile::save_privacy() const {
    if (!privacy) return Status::ok();
    auto bytes = encode_privacy(*privacy);
    if (!bytes) return bytes.status();
    DHTALK_TRY(ensure_private_dir(dir));
    return write_file_atomic(dir / "privacy.list", *bytes, 0600);
}

Status Profile::save_state() const {
    DHTALK_TRY(ensure_private_dir(dir));
    Json::Value v(Json::objectValue);
    v["phone"] = phone;
    v["user_id"] = user_id;
    v["network_id"] = network_id;
    v["last_sequence"] = Json::UInt64(last_sequence);
    v["privacy_ms"] = Json::Int64(privacy_ms);
    v["nodes"] = Json::Value(Json::arrayValue);
    for (const auto& n : nodes) v["nodes"].append(n);
    return write_file_atomic(dir / "profile.json", json::to_pretty(v) + "\n", 0600);
}

}  // namespace dhtalk::client
