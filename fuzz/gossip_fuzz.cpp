// Membership (SWIM) and presence datagrams as a member receives them from
// another; the first byte picks the protocol.
#include "fuzz/fuzz_util.h"
#include "node/gossip/presence.h"
#include "node/gossip/swim.h"
#include "tests/sample_inputs.h"

using namespace dhtalk;

namespace {

struct Members {
    const std::vector<std::string>& ids = test::sample_member_ids();
    SteadyTime now{};
    test::AcceptingSigner signer;
    Swim swim{"bb", SwimConfig{}, 1};
    PresenceChannel presence{"bb", PresenceConfig{}, signer};
    Members() {
        swim.set_members(ids, now);
        presence.set_members(ids, now);
        presence.login(std::string(40, 'u'), now, 1000);
        presence.set_privacy(std::string(40, 'u'), {}, now);
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static Members m;
    unsigned which;
    std::string_view rest;
    if (!fuzz::select(data, size, 2, which, rest)) return 0;
    m.now += std::chrono::milliseconds(10);
    if (which == 0) {
        (void)m.swim.on_datagram("aa", rest, m.now);
        m.swim.tick(m.now);
        (void)m.swim.take_outgoing();
    } else {
        (void)m.presence.on_datagram("aa", rest, m.now);
        m.presence.tick(m.now);
        (void)m.presence.take_outgoing();
        (void)m.presence.take_deliveries();
    }
    return 0;
}
