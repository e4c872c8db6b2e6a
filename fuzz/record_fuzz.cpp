// Record envelopes as nodes and clients receive them from the DHT: the
// envelope, its certificate and its signature.
#include "records/record.h"
#include "fuzz/fuzz_util.h"

using namespace dhtalk;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    (void)open_record(fuzz::as_text(data, size));
    return 0;
}
