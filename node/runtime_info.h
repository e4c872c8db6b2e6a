#pragma once
// RuntimeInfo: what a running node tells the tools and tests that want to
// reach it, written to <data-dir>/runtime.json once every port is bound and
// removed on a clean stop. A node started on port 0 is found this way.

#include <filesystem>
#include <string>

#include "common/status.h"

namespace dhtalk {

struct RuntimeInfo {
    std::string node_id;  // hex
    uint32_t network_id = 0;
    std::string network;
    int64_t pid = 0;
    uint16_t dht_port_ipv4 = 0;  // 0: not bound
    uint16_t dht_port_ipv6 = 0;
    uint16_t peer_port = 0;  // TCP peer service of the trusted network (0: none)
    uint16_t client_port = 0;  // TLS client front end
    std::string http_address;
    uint16_t http_port = 0;
    std::string version;
};

inline constexpr const char* kRuntimeFileName = "runtime.json";

Status write_runtime_info(const std::filesystem::path& data_dir, const RuntimeInfo& info);
// kNotFound when no node is running there (or it was stopped cleanly).
Result<RuntimeInfo> read_runtime_info(const std::filesystem::path& data_dir);
void remove_runtime_info(const std::filesystem::path& data_dir);

}  // namespace dhtalk
