// Client frames as a node reads them from a TLS session: the frame stream
// (length prefixes) and each frame's msgpack body.
#include "fuzz/fuzz_util.h"
#include "net/client_protocol.h"

using namespace dhtalk;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const auto bytes = fuzz::as_text(data, size);
    (void)decode_frame(bytes);
    FrameReader reader(64 * 1024);
    if (reader.feed(bytes))
        for (int i = 0; i < 16; ++i)
            if (!reader.next()) break;
    return 0;
}
