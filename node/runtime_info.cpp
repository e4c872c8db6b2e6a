#include "node/runtime_info.h"

#include "common/files.h"
#include "common/json.h"

namespace dhtalk {
namespace {

constexpr size_t kMaxRuntimeFileBytes = 64 * 1024;

Result<uint16_t> port_field(const Json::Value& v, const char* name) {
    const auto& f = v[name];
    if (!f.isUInt() || f.asUInt() > 65535) return Status::corruption(std::string("runtime.json: bad ") + name);
    return static_cast<uint16_t>(f.asUInt());
}

}  // namespace

Status write_runtime_info(const std::filesystem::path& data_dir, const RuntimeInfo& info) {
    Json::Value v(Json::objectValue);
    v["node_id"] = info.node_id;
    v["network_id"] = info.network_id;
    v["network"] = info.network;
    v["pid"] = Json::Int64(info.pid);
    v["dht_port_ipv4"] = info.dht_port_ipv4;
    v["dht_port_ipv6"] = info.dht_port_ipv6;
    v["peer_port"] = info.peer_port;
    v["client_port"] = info.client_port;
    v["http_address"] = info.http_address;
    v["http_port"] = info.http_port;
    v["version"] = info.version;
    return write_file_atomic(data_dir / kRuntimeFileName, json::to_pretty(v) + "\n", 0644);
}

Result<RuntimeInfo> read_runtime_info(const std::filesystem::path& data_dir) {
    const auto path = data_dir / kRuntimeFileName;
    std::error_code ec;
    if (!std::filesystem::exists(path, ec))
        return Status::not_found("no node is running with data directory " + data_dir.string() + " (no " +
                                 kRuntimeFileName + ")");
    auto text = read_file(path, kMaxRuntimeFileBytes);
    if (!text) return text.status();
    auto v = json::parse_object(*text);
    if (!v) return Status::corruption(path.string() + ": " + v.status().message());
    RuntimeInfo info;
    const auto& j = *v;
    if (!j["node_id"].isString() || !j["network_id"].isUInt() || !j["pid"].isInt64() ||
        !j["http_address"].isString())
        return Status::corruption(path.string() + " lacks node_id, network_id, pid or http_address");
    info.node_id = j["node_id"].asString();
    info.network_id = j["network_id"].asUInt();
    info.network = j["network"].asString();
    info.pid = j["pid"].asInt64();
    info.http_address = j["http_address"].asString();
    info.version = j["version"].asString();
    for (auto [field, name] : {std::pair{&info.dht_port_ipv4, "dht_port_ipv4"},
                               std::pair{&info.dht_port_ipv6, "dht_port_ipv6"},
                               std::pair{&info.peer_port, "peer_port"},
                               std::pair{&info.client_port, "client_port"},
                               std::pair{&info.http_port, "http_port"}}) {
        auto p = port_field(j, name);
        if (!p) return p.status();
        *field = *p;
    }
    return info;
}

void remove_runtime_info(const std::filesystem::path& data_dir) {
    std::error_code ec;
    std::filesystem::remove(data_dir / kRuntimeFileName, ec);  // absent is fine
}

}  // namespace dhtalk
