// Real OpenDHT over the sealed transport on loopback: members holding the
// epoch key form the overlay and exchange values, across an epoch change;
// a stock OpenDHT peer and a node with another key get nothing in.
#include <future>

#include "common/drivers.h"

#include "dht/overlay.h"
#include "testing/dht_client.h"
#include "testing/test_util.h"

#include "tests/doctest.h"

using namespace dhtalk;
using namespace std::chrono_literals;

namespace {

constexpr dht::NetId kNetwork = 0x5ea1ed;

EpochKey key_for(uint32_t epoch, uint8_t fill) {
    EpochKey k;
    k.epoch = epoch;
    k.key.fill(fill);
    return k;
}

std::unique_ptr<Overlay> start(std::optional<EpochKey> key, std::optional<uint16_t> bootstrap,
                               Drivers* drivers = nullptr) {
    OverlayConfig c;
    c.drivers = drivers;
    c.loop_on_receive = drivers != nullptr;
    c.bind_address = "127.0.0.1";
    c.network_id = kNetwork;
    c.node_id = dht::InfoHash::getRandom();
    c.seal_key = key;
    c.seal_grace = 10s;
    if (bootstrap) c.bootstrap.push_back("127.0.0.1:" + std::to_string(*bootstrap));
    static const SystemClock clock;
    auto o = Overlay::start(c, {}, clock);
    REQUIRE_MESSAGE(o.is_ok(), o.status().to_string());
    return std::move(o).value();
}

bool put(Overlay& o, const dht::InfoHash& key, const std::string& text) {
    auto done = std::make_shared<std::promise<bool>>();
    auto f = done->get_future();
    o.runner().put(key, test::text_value(text), [done](bool ok) { done->set_value(ok); });
    return f.wait_for(30s) == std::future_status::ready && f.get();
}

std::vector<std::string> get(Overlay& o, const dht::InfoHash& key) {
    auto values = o.runner().get(key);  // blocking form of DhtRunner::get
    auto found = values.wait_for(30s) == std::future_status::ready ? values.get()
                                                                    : std::vector<std::shared_ptr<dht::Value>>{};
    std::vector<std::string> out;
    for (auto& v : found) out.emplace_back(v->data.begin(), v->data.end());
    return out;
}

}  // namespace

TEST_CASE("only holders of the epoch key join a sealed overlay") {
    auto a = start(key_for(1, 0x11), std::nullopt);
    auto b = start(key_for(1, 0x11), a->port_ipv4());
    REQUIRE(test::wait_until([&] { return a->stats().peers_ipv4 >= 1 && b->stats().peers_ipv4 >= 1; }, 30s));
    CHECK(a->sealed());

    const auto key = dht::InfoHash::get("sealed-value");
    REQUIRE(put(*b, key, "for members only"));
    CHECK(get(*a, key) == std::vector<std::string>{"for members only"});

    // A stock OpenDHT peer with the right network id, and a node sealed
    // under another key, both bootstrap to a member.
    test::TestClient stock(kNetwork, a->port_ipv4());
    auto stranger = start(key_for(1, 0x22), a->port_ipv4());
    REQUIRE(test::wait_until([&] { return a->stats().datagrams_refused >= 2; }, 30s));
    CHECK(stock.get(key, 1, 2s).empty());
    CHECK(get(*stranger, key).empty());
    CHECK(stranger->stats().peers_ipv4 == 0);
    CHECK(a->stats().peers_ipv4 == 1);  // still only b
    stock.stop();

    // Epoch change: a adopts epoch 2 first; b, still on epoch 1, keeps
    // talking to it through the grace period, then adopts it too.
    REQUIRE(a->set_seal_key(key_for(2, 0x33)).is_ok());
    const auto key2 = dht::InfoHash::get("after-epoch-change");
    REQUIRE(put(*b, key2, "epoch 1 sender"));
    REQUIRE(b->set_seal_key(key_for(2, 0x33)).is_ok());
    CHECK(get(*a, key2) == std::vector<std::string>{"epoch 1 sender"});
    const auto key3 = dht::InfoHash::get("epoch-2");
    REQUIRE(put(*a, key3, "epoch 2"));
    CHECK(get(*b, key3) == std::vector<std::string>{"epoch 2"});

    for (auto* o : {stranger.get(), b.get(), a.get()}) o->stop(2s).ignore_error();  // timing out is fine here
}

TEST_CASE("open mode speaks plain OpenDHT: a stock peer joins") {
    auto a = start(std::nullopt, std::nullopt);
    CHECK_FALSE(a->sealed());
    CHECK(a->set_seal_key(key_for(1, 1)).code() == Code::kInvalidArgument);
    test::TestClient stock(kNetwork, a->port_ipv4());
    REQUIRE(stock.wait_peers(1));
    const auto key = dht::InfoHash::get("open-value");
    REQUIRE(put(*a, key, "open"));
    CHECK(stock.get(key) == std::vector<std::string>{"open"});
    stock.stop();
    a->stop(2s).ignore_error();
}

// As a running node drives it: OpenDHT's loop on the socket's receive
// thread for what arrives, and on a drive of its own for the requests and
// the timers. A get whose peer has left ends only by a timer of OpenDHT's
// (no datagram comes back to run the loop), so it shows the drive is not
// slept past it.
TEST_CASE("the receive thread runs the loop, the drive the timers") {
    const SystemClock clock;
    ThreadDrivers drivers(clock);
    auto a = start(key_for(1, 0x11), std::nullopt, &drivers);
    auto b = start(key_for(1, 0x11), a->port_ipv4(), &drivers);
    REQUIRE(test::wait_until([&] { return a->stats().peers_ipv4 >= 1 && b->stats().peers_ipv4 >= 1; }, 30s));

    auto stored = std::make_shared<std::promise<bool>>();
    auto was_stored = stored->get_future();
    const auto key = dht::InfoHash::get("driven-record");
    b->put_record(key, RecordType::kVCard, "envelope", [stored](bool ok) { stored->set_value(ok); });
    REQUIRE(was_stored.wait_for(30s) == std::future_status::ready);
    CHECK(was_stored.get());

    auto get_from_a = [&] {
        auto found = std::make_shared<std::vector<std::string>>();
        auto done = std::make_shared<std::promise<void>>();
        auto finished = done->get_future();
        a->get_records(key, RecordType::kVCard, [found](std::string_view v) { found->emplace_back(v); },
                       [done] { done->set_value(); });
        REQUIRE(finished.wait_for(30s) == std::future_status::ready);
        return *found;
    };
    CHECK(get_from_a() == std::vector<std::string>{"envelope"});

    REQUIRE(b->stop(2s).is_ok());
    b.reset();
    CHECK(get_from_a() == std::vector<std::string>{"envelope"});  // a holds a replica
    CHECK(a->stop(2s).is_ok());
}

// A start that fails once OpenDHT runs (here: a bootstrap address that does
// not parse) gives the reason. A driven overlay is stopped at once then;
// it used to wait out the five seconds of a threaded runner's shutdown.
TEST_CASE("a driven overlay whose start fails says why") {
    const SystemClock clock;
    ThreadDrivers drivers(clock);
    OverlayConfig c;
    c.drivers = &drivers;
    c.loop_on_receive = true;
    c.bind_address = "127.0.0.1";
    c.network_id = kNetwork;
    c.node_id = dht::InfoHash::getRandom();
    c.bootstrap = {"no port here"};
    auto o = Overlay::start(c, {}, clock);
    REQUIRE_FALSE(o.is_ok());
    CHECK(o.status().message().find("no port here") != std::string::npos);
}
