#pragma once
// The HTTP/1.1 messages of the peer service's server (peer_http_server.h):
// a request as it was read, the parser of a request head (outside input,
// fuzzed by fuzz/peer_http_fuzz.cpp), and an answer as it is written.
// Every answer closes its connection. Stateless.

#include <cstddef>
#include <map>
#include <string>
#include <string_view>

namespace dhtalk {

struct HttpRequest {
    std::string method;
    std::string path;         // without the query
    std::string query;        // after '?', undecoded
    std::string remote_addr;  // the peer's address, as text
    std::map<std::string, std::string> headers;  // names in lowercase
    std::string body;

    // The header's value (the name in any case), or "".
    std::string header(const std::string& name) const;
    // The query parameter's value (as sent, undecoded), or "".
    std::string param(const std::string& name) const;
};

struct HttpResponse {
    int status = 200;
    std::string content_type = "text/plain";
    std::string body;
};

// Parses a request head (request line and headers, without the blank line
// after them) into `r`, and Content-Length into `body_length`. Returns 0, or
// the HTTP status to refuse the request with (400, 413 over `max_body`, 501).
int parse_http_head(std::string_view head, size_t max_body, HttpRequest& r, size_t& body_length);

// The bytes of `r` on the wire, "Connection: close" included.
std::string serialize_http_response(const HttpResponse& r);

}  // namespace dhtalk
