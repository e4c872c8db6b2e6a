#include "common/host_port.h"

namespace dhtalk {

Result<std::pair<std::string, uint16_t>> parse_host_port(const std::string& text) {
    std::string host, port;
    if (!text.empty() && text.front() == '[') {
        const auto close = text.find(']');
        if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':')
            return Status::invalid("'" + text + "' is not HOST:PORT (write IPv6 as [ADDR]:PORT)");
        host = text.substr(1, close - 1);
        port = text.substr(close + 2);
    } else {
        const auto colon = text.rfind(':');
        if (colon == std::string::npos || text.find(':') != colon)
            return Status::invalid("'" + text + "' is not HOST:PORT (write IPv6 as [ADDR]:PORT)");
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
    }
    if (host.empty()) return Status::invalid("'" + text + "' has no host");
    if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos)
        return Status::invalid("'" + text + "' has no valid port");
    const unsigned long p = std::stoul(port);
    if (p == 0 || p > 65535) return Status::invalid("port in '" + text + "' is not in 1..65535");
    return std::make_pair(host, static_cast<uint16_t>(p));
}

}  // namespace dhtalk
