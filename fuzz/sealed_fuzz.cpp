// Sealed overlay datagrams as a member receives them, under a fixed key
// (inputs sealed under it, from the seed corpus, reach the replay window and
// the path check; others stop at the header or the tag).
#include <memory>

#include "net/sealed_socket.h"
#include "fuzz/fuzz_util.h"
#include "fuzz/seed_keys.h"
#include "testing/feed_socket.h"

using namespace dhtalk;

namespace {

struct Receiver {
    ManualClock clock{fuzz::kSteadyStart, fuzz::kWallStart};
    test::FeedSocket* below = nullptr;  // owned by socket
    std::unique_ptr<SealedSocket> socket;
    Receiver() {
        auto feed = std::make_unique<test::FeedSocket>(fuzz::member_address(1));
        below = feed.get();
        socket = std::make_unique<SealedSocket>(std::move(feed), clock, std::make_shared<SealCounters>());
        (void)socket->set_key(fuzz::seal_key(), std::chrono::seconds(30));
        // What opens goes up to here, as to OpenDHT.
        socket->setOnReceive([](dht::net::PacketList&&) { return dht::net::PacketList{}; });
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static Receiver receiver;  // its replay windows fill as the fuzzer runs: state is part of what is fuzzed
    receiver.below->feed(data, size, fuzz::member_address(0));
    return 0;
}
