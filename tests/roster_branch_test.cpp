// Two members whose rosters parted one epoch back: the same ballots built
// the next epoch on each of two rivals. Each hears the other's head, fetches
// its branch from the head's assembler over the peer service, and both end
// on the branch that parted with the lower hash (TrustedNetwork::take_branch).
#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include "node/trust/peer_service.h"
#include "node/trust/roster_builder.h"
#include "node/trust/roster_store.h"
#include "node/trust/trusted_network.h"
#include "roster/roster_rules.h"
#include "storage/memory_store.h"
#include "tests/roster_bus.h"

#include "tests/doctest.h"

using namespace dhtalk;
using test::ids;

namespace {

// A member's way to the others' peer services, in memory: a roster fetch
// is answered by the member at the endpoint asked; whatever else is sent
// goes nowhere. Records the roster fetches this member made.
class RosterPeers final : public PeerNet {
public:
    explicit RosterPeers(const std::map<std::string, TrustedNetwork*>& members) : members_(members) {}

    Result<std::unique_ptr<PeerListener>> listen(const std::string&, uint16_t, const PeerHttpLimits&, Handler) override {
        return Status::invalid("not served here");
    }
    Result<PeerAnswer> exchange(const std::string& endpoint, const PeerCall& call, size_t) override {
        const std::string prefix = "/v1/roster?from=";
        if (call.path.rfind(prefix, 0) != 0) return PeerAnswer{200, ""};
        const uint64_t from = std::stoull(call.path.substr(prefix.size()));
        {
            std::lock_guard lock(mutex_);
            fetches_.emplace_back(endpoint, from);
        }
        auto member = members_.find(endpoint);
        if (member == members_.end() || !member->second) return Status::unavailable("nobody at " + endpoint);
        return PeerAnswer{200, encode_epoch_list(member->second->epochs_from(from, kMaxEpochsPerAnswer))};
    }
    // Whether this member fetched the roster from epoch `from` on, of
    // `endpoint` (of anyone, when empty).
    bool fetched(uint64_t from, const std::string& endpoint = {}) const {
        std::lock_guard lock(mutex_);
        return std::any_of(fetches_.begin(), fetches_.end(), [&](const auto& f) {
            return f.second == from && (endpoint.empty() || f.first == endpoint);
        });
    }

private:
    const std::map<std::string, TrustedNetwork*>& members_;
    mutable std::mutex mutex_;
    std::vector<std::pair<std::string, uint64_t>> fetches_;  // endpoint, from
};

// A member that holds `chain` and then adopts `head` (its epoch is young).
std::unique_ptr<TrustedNetwork> member_on(int id, const std::vector<RosterEpoch>& chain, const RosterEpoch& head,
                                          MemoryStore& store, const Clock& clock, Drivers& drivers, PeerNet& net) {
    for (const auto& e : chain) REQUIRE(RosterStore(store).save_epoch(e));
    TrustConfig config;
    config.endpoint = "127.0.0.1:" + std::to_string(100 + id);
    config.interval = std::chrono::milliseconds(20);  // tick() starts a catch-up this often
    auto trust = TrustedNetwork::open(config, store, ids()[id], clock, drivers, net, static_cast<uint64_t>(id));
    REQUIRE(trust);
    REQUIRE((*trust)->on_epoch(encode(head)));
    return std::move(trust).value();
}

// Waits, bounded, for `done`: the member's catch-up worker does the work.
bool eventually(const std::function<bool()>& done) {
    for (int i = 0; i < 500; ++i) {
        if (done()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
}

}  // namespace

TEST_CASE("two members on branches that parted one epoch back both keep the one that parted lower") {
    // Member 2's admission assembled by members 0 and 1 at once, and member
    // 3's built on each: by member 0 on the lower, by member 1 on the other.
    test::Bus bus;
    const test::Rivals rivals = test::rival_admissions(bus);
    const RosterEpoch& low = rivals.low;
    const RosterEpoch& high = rivals.high;
    const crypto::AeadKey low_key = crypto::random_key();
    const auto on_low = test::admit_three_on(low, 0, low_key);
    const auto on_high = test::admit_three_on(high, 1, crypto::random_key());

    SystemClock clock;
    ThreadDrivers drivers(clock);
    std::map<std::string, TrustedNetwork*> members;  // member 0 founded at 127.0.0.1:1
    RosterPeers peers0(members), peers1(members);
    MemoryStore store0, store1;
    std::vector<RosterEpoch> chain0 = bus.chain, chain1 = bus.chain;
    chain0.push_back(low);
    chain1.push_back(high);
    auto zero = member_on(0, chain0, on_low, store0, clock, drivers, peers0);
    auto one = member_on(1, chain1, on_high, store1, clock, drivers, peers1);
    members = {{"127.0.0.1:1", zero.get()}, {"127.0.0.1:101", one.get()}};
    REQUIRE(zero->epoch_key());
    REQUIRE(zero->epoch_key()->key == low_key);

    // Member 0 hears member 1's head: its own branch parted lower, so it
    // stays. A catch-up runs on the same worker after the branch's fetch
    // (the worker holds one job waiting): once one has asked, the branch
    // was weighed.
    // The head names its assembler's endpoint as elsewhere (unsigned, as
    // anyone could send it): member 0 asks where its own roster says member
    // 1 is.
    RosterEpoch elsewhere = on_high;
    for (auto& m : elsewhere.members)
        if (m.node_id == ids()[1].node_id_hex()) m.endpoints = {"192.0.2.9:9"};
    CHECK_FALSE(zero->on_epoch(encode(elsewhere)));
    CHECK(eventually([&] {
        zero->tick();
        return peers0.fetched(on_low.epoch + 1);
    }));
    CHECK(peers0.fetched(0, "127.0.0.1:101"));  // the branch, from 8 epochs back at most
    CHECK_FALSE(peers0.fetched(0, "192.0.2.9:9"));
    CHECK(zero->epoch_key()->key == low_key);

    // Member 1 hears member 0's: it leaves its branch for member 0's.
    CHECK_FALSE(one->on_epoch(encode(on_low)));
    CHECK(eventually([&] { return one->epoch_key() && one->epoch_key()->key == low_key; }));
    CHECK(one->epoch() == on_low.epoch);
    CHECK(one->epochs_from(low.epoch, 2) == std::vector<std::string>{encode(low), encode(on_low)});
    zero->stop();
    one->stop();
}
