// Record bodies (vCard, privacy list, media metadata, device list) and media
// references; the first byte picks the decoder.
#include "records/device_list.h"
#include "records/record_bodies.h"
#include "fuzz/fuzz_util.h"

using namespace dhtalk;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    unsigned which;
    std::string_view rest;
    if (!fuzz::select(data, size, 5, which, rest)) return 0;
    switch (which) {
    case 0: (void)decode_vcard(rest); break;
    case 1: (void)decode_privacy(rest); break;
    case 2: (void)decode_media(rest); break;
    case 3: (void)parse_media_reference(rest); break;
    default: (void)decode_device_list(rest);
    }
    return 0;
}
