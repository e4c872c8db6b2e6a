// Record bodies (vCard, privacy list, media metadata) and media references;
// the first byte picks the decoder.
#include "records/record_bodies.h"
#include "fuzz/fuzz_util.h"

using namespace dhtalk;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    unsigned which;
    std::string_view rest;
    if (!fuzz::select(data, size, 4, which, rest)) return 0;
    switch (which) {
    case 0: (void)decode_vcard(rest); break;
    case 1: (void)decode_privacy(rest); break;
    case 2: (void)decode_media(rest); break;
    default: (void)parse_media_reference(rest);
    }
    return 0;
}
