// A request head at the peer service's HTTP server (request line and
// headers), and the query parameters a handler reads from it.
#include "fuzz/fuzz_util.h"
#include "net/http_message.h"

using namespace dhtalk;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    HttpRequest r;
    size_t body_length = 0;
    if (parse_http_head(fuzz::as_text(data, size), 1 << 20, r, body_length) == 0) {
        (void)r.param("from");
        (void)r.header("X-Dhtalk-Origin");
    }
    return 0;
}
