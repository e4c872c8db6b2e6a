// A value archive record as a node reads it from its store at start (a file
// on disk is input from outside too).
#include "dht/value_archive.h"
#include "fuzz/fuzz_util.h"
#include "storage/memory_store.h"

using namespace dhtalk;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    MemoryStore store;
    const auto key = dht::InfoHash::get("fuzz");
    (void)store.put(std::string(ValueArchive::kPrefix) + std::string(reinterpret_cast<const char*>(key.data()), key.size()),
                    fuzz::as_text(data, size));
    SystemClock clock;
    ValueArchive archive(store, clock);
    (void)archive.load();
    return 0;
}
