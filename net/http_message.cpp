#include "net/http_message.h"

#include <cctype>
#include <cstring>

namespace dhtalk {

namespace {

const char* reason(int status) {
    switch (status) {
    case 200: return "OK";
    case 202: return "Accepted";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Content Too Large";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    default: return "Status";
    }
}

}  // namespace

std::string serialize_http_response(const HttpResponse& r) {
    std::string out = "HTTP/1.1 " + std::to_string(r.status) + " " + reason(r.status) + "\r\n";
    if (!r.body.empty()) out += "Content-Type: " + r.content_type + "\r\n";
    out += "Content-Length: " + std::to_string(r.body.size()) + "\r\nConnection: close\r\n\r\n";
    out += r.body;
    return out;
}

namespace {

std::string lowercase(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

std::string trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return std::string(s);
}

// No control characters but tab (RFC 9110 5.5): a bare CR, LF or NUL in a
// value would read one way here and another behind a proxy.
bool is_clean(std::string_view s, bool tab_allowed) {
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if ((u < 0x20 && !(tab_allowed && c == '\t')) || u == 0x7f) return false;
    }
    return true;
}

bool is_token(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s)
        if (!std::isalnum(static_cast<unsigned char>(c)) && !std::strchr("!#$%&'*+-.^_`|~", c)) return false;
    return true;
}

}  // namespace

int parse_http_head(std::string_view head, size_t max_body, HttpRequest& r, size_t& body_length) {
    const auto line_end = head.find("\r\n");
    const std::string_view line = head.substr(0, line_end);
    const auto sp1 = line.find(' ');
    const auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos) return 400;
    r.method = std::string(line.substr(0, sp1));
    const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    const std::string_view version = line.substr(sp2 + 1);
    if (!is_token(r.method) || target.empty() || target.front() != '/' || !is_clean(target, false) ||
        (version != "HTTP/1.1" && version != "HTTP/1.0"))
        return 400;
    const auto q = target.find('?');
    r.path = std::string(target.substr(0, q));
    if (q != std::string_view::npos) r.query = std::string(target.substr(q + 1));
    std::string_view rest = line_end == std::string_view::npos ? std::string_view() : head.substr(line_end + 2);
    while (!rest.empty()) {
        const auto end = rest.find("\r\n");
        const std::string_view h = rest.substr(0, end);
        rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 2);
        const auto colon = h.find(':');
        if (colon == std::string_view::npos || !is_token(h.substr(0, colon))) return 400;
        const std::string name = lowercase(std::string(h.substr(0, colon)));
        if (!is_clean(h.substr(colon + 1), true)) return 400;
        const std::string value = trim(h.substr(colon + 1));
        auto [it, fresh] = r.headers.emplace(name, value);
        // Two different lengths would frame the body two ways; other repeats keep the first.
        if (!fresh && it->second != value && (name == "content-length" || name == "transfer-encoding" || name == "host"))
            return 400;
    }
    if (r.headers.count("transfer-encoding")) return 501;
    body_length = 0;
    if (auto it = r.headers.find("content-length"); it != r.headers.end()) {
        const std::string& v = it->second;
        if (v.empty() || v.size() > 19 || v.find_first_not_of("0123456789") != std::string::npos) return 400;
        const unsigned long long n = std::stoull(v);
        if (n > max_body) return 413;
        body_length = static_cast<size_t>(n);
    }
    return 0;
}


std::string HttpRequest::header(const std::string& name) const {
    auto it = headers.find(lowercase(name));
    return it == headers.end() ? std::string() : it->second;
}

std::string HttpRequest::param(const std::string& name) const {
    std::string_view q = query;
    while (!q.empty()) {
        const auto amp = q.find('&');
        const std::string_view pair = q.substr(0, amp);
        const auto eq = pair.find('=');
        if (pair.substr(0, eq) == name) return eq == std::string_view::npos ? std::string() : std::string(pair.substr(eq + 1));
        q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
    }
    return {};
}


}  // namespace dhtalk
