// Sealed overlay datagrams as a member receives them, under a fixed key
// (inputs sealed under it, from the seed corpus, reach the replay window and
// the path check; others stop at the header or the tag).
#include <memory>

#include "net/sealed_socket.h"
#include "fuzz/fuzz_util.h"
#include "fuzz/seed_keys.h"

using namespace dhtalk;

namespace {

// The transport below the sealed socket: nothing is sent or received here.
class Silent final : public dht::net::DatagramSocket {
public:
    Silent() { bound_ = fuzz::member_address(1); }
    int sendTo(const dht::SockAddr&, const uint8_t*, size_t, bool) override { return 0; }
    bool hasIPv4() const override { return true; }
    bool hasIPv6() const override { return false; }
    const dht::SockAddr& getBoundRef(sa_family_t family) const override { return family == AF_INET ? bound_ : none_; }
    void stop() override {}

private:
    dht::SockAddr bound_, none_;
};

struct Receiver {
    ManualClock clock{fuzz::kSteadyStart, fuzz::kWallStart};
    std::unique_ptr<SealedSocket> socket;
    Receiver() {
        socket = std::make_unique<SealedSocket>(std::make_unique<Silent>(), clock, std::make_shared<SealCounters>());
        (void)socket->set_key(fuzz::seal_key(), std::chrono::seconds(30));
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static Receiver receiver;  // its replay windows fill as the fuzzer runs: state is part of what is fuzzed
    (void)receiver.socket->open_datagram(data, size, fuzz::member_address(0));
    return 0;
}
