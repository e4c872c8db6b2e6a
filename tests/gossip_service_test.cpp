// GossipService (node/gossip/gossip_service.h) on its own: the delivery
// callback and the lifetime of what it calls into.
#include <opendht.h>

#include "tests/doctest.h"

#include <atomic>
#include <thread>

#include "crypto/node_identity.h"
#include "node/gossip/gossip_service.h"
#include "testing/test_util.h"

using namespace dhtalk;
using namespace std::chrono;

TEST_CASE("replacing the delivery callback waits for a delivery in progress") {
    test::TempDir dir;
    const auto identity = crypto::load_or_create_identity(dir / "node", 2048).value();
    auto members = std::make_shared<MemberDirectory>();
    members->set({{identity.node_id_hex(), identity.fast_public}});
    SystemClock clock;
    ThreadDrivers drivers(clock);
    GossipService service(GossipServiceConfig{}, identity, members, 1, clock, drivers);
    service.set_members({{identity.node_id_hex(), {"127.0.0.1:1"}}});
    const std::string alice(40, 'a'), bob(40, 'b');
    service.login(alice);
    service.set_privacy(alice, {});  // as her client does on every login
    service.login(bob);
    REQUIRE(service.watch(bob, alice));

    // The callback stands for the front end, which the node destroys right
    // after replacing the callback: nothing may still run inside it then.
    std::atomic<bool> inside{false}, finished{false};
    service.on_delivery([&](const PresenceDelivery&) {
        if (inside.exchange(true)) return;
        std::this_thread::sleep_for(milliseconds(300));  // a slow push, still in progress below
        finished = true;
    });
    std::thread setter([&] { CHECK(service.set(alice, "away", "lunch")); });
    const bool delivering = test::wait_until([&] { return inside.load(); }, seconds(10));
    service.on_delivery(nullptr);
    const bool finished_first = finished;  // before the fix: on_delivery returned while the callback ran on
    setter.join();
    REQUIRE(delivering);
    CHECK(finished_first);
}
