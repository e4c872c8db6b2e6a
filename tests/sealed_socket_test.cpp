// The sealed transport: replay windows, and sealed sockets on loopback
// refusing every kind of hostile datagram, across a key change.
#include <mutex>

#include "net/gossip_socket.h"
#include "net/replay_window.h"
#include "net/sealed_socket.h"
#include "net/udp_socket.h"
#include "testing/feed_socket.h"
#include "testing/test_util.h"

#include "tests/doctest.h"

using namespace dhtalk;
using namespace std::chrono_literals;

TEST_CASE("replay window: each number once, old ones refused") {
    ReplayWindow w;
    CHECK(w.accept(5));
    CHECK_FALSE(w.accept(5));
    CHECK(w.accept(3));  // late but inside the window
    CHECK_FALSE(w.accept(3));
    CHECK(w.accept(2000));
    CHECK_FALSE(w.accept(2000 - ReplayWindow::kSize));  // slid out
    CHECK(w.accept(2000 - ReplayWindow::kSize + 1));
    CHECK(w.accept(1'000'000));  // a jump clears the window
    CHECK(w.accept(999'999));
    CHECK_FALSE(w.accept(999'999));
}

TEST_CASE("replay guard: per sender, bounded, least recent forgotten") {
    ReplayGuard g(2);
    CHECK(g.accept(1, 10));
    CHECK(g.accept(2, 10));
    CHECK_FALSE(g.accept(1, 10));
    CHECK(g.accept(3, 10));  // evicts sender 2, heard least recently
    CHECK(g.senders() == 2);
    CHECK(g.accept(2, 10));  // forgotten, so accepted again: the bound's price
    CHECK_FALSE(g.accept(3, 10));
}

namespace {

dht::SockAddr loopback() {
    auto a = dht::SockAddr::resolve("127.0.0.1").front();
    a.setPort(0);
    return a;
}

EpochKey key_for(uint32_t epoch, uint8_t fill) {
    EpochKey k;
    k.epoch = epoch;
    k.key.fill(fill);
    return k;
}

// A sealed socket on loopback and what it lets through.
struct Endpoint {
    explicit Endpoint(const Clock& clock, SealScope scope = SealScope::kEverything) {
        auto udp = UdpSocket::open(loopback(), dht::SockAddr(), std::make_shared<DatagramCounters>());
        REQUIRE(udp.is_ok());
        socket = std::make_unique<SealedSocket>(std::move(udp).value(), clock, counters, scope);
        socket->setOnReceive([this](dht::net::PacketList&& packets) {
            std::lock_guard lock(mutex);
            for (auto& p : packets) received.emplace_back(p.data.begin(), p.data.end());
            return dht::net::PacketList{};
        });
    }
    size_t count() {
        std::lock_guard lock(mutex);
        return received.size();
    }
    const dht::SockAddr& address() { return socket->getBoundRef(AF_INET); }
    int send(Endpoint& to, const std::string& text) { return send_to(to.address(), text); }
    int send_to(const dht::SockAddr& to, const std::string& text) {
        return socket->sendTo(to, reinterpret_cast<const uint8_t*>(text.data()), text.size(), false);
    }

    std::shared_ptr<SealCounters> counters = std::make_shared<SealCounters>();
    std::unique_ptr<SealedSocket> socket;
    std::mutex mutex;
    std::vector<std::string> received;  // guarded by mutex
};

// A sealed socket over one the test feeds (testing/feed_socket.h): captured
// datagrams go up its real receive path as if from any address, to replay
// them along chosen paths. Reached at `own` unless told otherwise.
struct FedMember {
    FedMember(const Clock& clock, uint16_t own) {
        auto address = loopback();
        address.setPort(own);
        auto feed = std::make_unique<test::FeedSocket>(address);
        below = feed.get();
        socket = std::make_unique<SealedSocket>(std::move(feed), clock, counters);
        socket->setOnReceive([this](dht::net::PacketList&& packets) {
            for (auto& p : packets) received.emplace_back(p.data.begin(), p.data.end());
            return dht::net::PacketList{};
        });
    }
    // The plaintext, if the datagram from `from` opened.
    std::optional<std::string> opens(const std::vector<uint8_t>& bytes, const dht::SockAddr& from) {
        const size_t before = received.size();
        below->feed(bytes.data(), bytes.size(), from);
        if (received.size() == before) return std::nullopt;
        return received.back();
    }

    std::shared_ptr<SealCounters> counters = std::make_shared<SealCounters>();
    test::FeedSocket* below = nullptr;  // owned by socket
    std::unique_ptr<SealedSocket> socket;
    std::vector<std::string> received;
};

// A plain socket that records raw datagrams, to capture and forge traffic.
struct Tap {
    Tap() {
        auto udp = UdpSocket::open(loopback(), dht::SockAddr(), std::make_shared<DatagramCounters>());
        REQUIRE(udp.is_ok());
        socket = std::move(udp).value();
        socket->setOnReceive([this](dht::net::PacketList&& packets) {
            std::lock_guard lock(mutex);
            for (auto& p : packets) captured.push_back(p.data);
            return dht::net::PacketList{};
        });
    }
    void inject(Endpoint& to, const std::vector<uint8_t>& bytes) {
        REQUIRE(socket->sendTo(to.address(), bytes.data(), bytes.size(), false) == 0);
    }
    std::vector<uint8_t> at(size_t i) {
        std::lock_guard lock(mutex);
        return captured.at(i);
    }
    size_t count() {
        std::lock_guard lock(mutex);
        return captured.size();
    }
    std::unique_ptr<UdpSocket> socket;
    std::mutex mutex;
    std::vector<dht::Blob> captured;  // guarded by mutex
};

}  // namespace

TEST_CASE("members with the key talk; everything else is refused and counted") {
    ManualClock clock;
    Endpoint a(clock), b(clock);
    REQUIRE(a.socket->set_key(key_for(1, 0xAA), 10s).is_ok());
    REQUIRE(b.socket->set_key(key_for(1, 0xAA), 10s).is_ok());
    REQUIRE(a.send(b, "hello member") == 0);
    REQUIRE(test::wait_until([&] { return b.count() == 1; }, 5s));
    CHECK(b.received[0] == "hello member");

    // Capture a genuine sealed datagram to replay and tamper with: `a` sends
    // it to the tap, which stands on the path to a member reached there.
    Tap tap;
    FedMember member(clock, 9);
    member.socket->set_own_addresses({tap.socket->getBoundRef(AF_INET)});
    REQUIRE(member.socket->set_key(key_for(1, 0xAA), 10s).is_ok());
    const std::string secret = "a secret marker";
    REQUIRE(a.socket->sendTo(tap.socket->getBoundRef(AF_INET), reinterpret_cast<const uint8_t*>(secret.data()),
                             secret.size(), false) == 0);
    REQUIRE(test::wait_until([&] { return tap.count() == 1; }, 5s));
    const auto genuine = tap.at(0);
    CHECK(genuine.size() == SealedSocket::kOverheadBytes + secret.size());
    CHECK(std::string(genuine.begin(), genuine.end()).find(secret) == std::string::npos);  // not in the clear

    auto deliver = [&](const std::vector<uint8_t>& bytes) { return member.opens(bytes, a.address()); };
    auto opened = deliver(genuine);  // first delivery: accepted
    REQUIRE(opened);
    CHECK(*opened == secret);
    CHECK_FALSE(deliver(genuine));  // replayed
    auto tampered = genuine;
    tampered.back() ^= 1;
    CHECK_FALSE(deliver(tampered));
    auto other_epoch = genuine;
    other_epoch[4] ^= 7;
    CHECK_FALSE(deliver(other_epoch));
    auto bad_version = genuine;
    bad_version[0] = 9;
    CHECK_FALSE(deliver(bad_version));
    CHECK_FALSE(deliver(std::vector<uint8_t>(genuine.begin(), genuine.begin() + 20)));  // truncated
    CHECK_FALSE(deliver(std::vector<uint8_t>{'d', '1', ':', 'a'}));  // a plain OpenDHT-looking datagram
    CHECK(member.counters->refused() == 6);
    CHECK(member.counters->refused_replay == 1);
    CHECK(member.counters->refused_tag == 1);
    CHECK(member.counters->refused_epoch == 1);
    CHECK(member.counters->refused_version == 1);
    CHECK(member.counters->refused_truncated == 2);

    Endpoint stranger(clock);  // another network's key
    REQUIRE(stranger.socket->set_key(key_for(1, 0xBB), 10s).is_ok());
    REQUIRE(stranger.send(b, "let me in") == 0);
    REQUIRE(test::wait_until([&] { return b.counters->refused() == 1; }, 5s));
    CHECK(b.counters->refused_tag == 1);
    CHECK(b.count() == 1);
}

TEST_CASE("a captured datagram opens only on its path: not from the replayer's address, not at another member") {
    ManualClock clock;
    Endpoint a(clock);
    FedMember other(clock, 9);
    Tap tap;
    FedMember member(clock, 10);  // reached at the tap's address
    member.socket->set_own_addresses({tap.socket->getBoundRef(AF_INET)});
    for (auto* socket : {a.socket.get(), other.socket.get(), member.socket.get()})
        REQUIRE(socket->set_key(key_for(1, 0xAA), 10s).is_ok());
    REQUIRE(a.send_to(tap.socket->getBoundRef(AF_INET), "for member only") == 0);
    REQUIRE(test::wait_until([&] { return tap.count() == 1; }, 5s));
    const auto genuine = tap.at(0);

    // Replayed from the tap's own address: OpenDHT would re-home a's node id there.
    CHECK_FALSE(member.opens(genuine, tap.socket->getBoundRef(AF_INET)));
    // Replayed to another member, as if from a.
    CHECK_FALSE(other.opens(genuine, a.address()));
    CHECK(member.counters->refused_tag == 1);
    CHECK(other.counters->refused_tag == 1);
    // On its own path it opens (the refusals above did not use it up).
    CHECK(member.opens(genuine, a.address()));
}

TEST_CASE("a restarted receiver refuses datagrams sealed before it started") {
    ManualClock clock;
    Endpoint a(clock);
    Tap tap;
    REQUIRE(a.socket->set_key(key_for(1, 0xAA), 10s).is_ok());
    REQUIRE(a.send_to(tap.socket->getBoundRef(AF_INET), "captured before the restart") == 0);
    REQUIRE(test::wait_until([&] { return tap.count() == 1; }, 5s));
    const auto before = tap.at(0);
    {
        FedMember member(clock, 9);
        member.socket->set_own_addresses({tap.socket->getBoundRef(AF_INET)});
        REQUIRE(member.socket->set_key(key_for(1, 0xAA), 10s).is_ok());
        CHECK(member.opens(before, a.address()));
    }
    clock.advance(2s);
    FedMember restarted(clock, 9);  // the same member, its replay windows empty
    restarted.socket->set_own_addresses({tap.socket->getBoundRef(AF_INET)});
    REQUIRE(restarted.socket->set_key(key_for(1, 0xAA), 10s).is_ok());
    CHECK_FALSE(restarted.opens(before, a.address()));
    CHECK(restarted.counters->refused_stale == 1);
    REQUIRE(a.send_to(tap.socket->getBoundRef(AF_INET), "sealed after the restart") == 0);
    REQUIRE(test::wait_until([&] { return tap.count() == 2; }, 5s));
    const auto after = tap.at(1);
    CHECK(restarted.opens(after, a.address()));
}

TEST_CASE("a socket that knows no address of its own neither seals nor opens on that family") {
    ManualClock clock;
    auto any = dht::SockAddr::resolve("0.0.0.0").front();
    any.setPort(0);
    auto udp = UdpSocket::open(any, dht::SockAddr(), std::make_shared<DatagramCounters>());
    REQUIRE(udp.is_ok());
    auto counters = std::make_shared<SealCounters>();
    SealedSocket wildcard(std::move(udp).value(), clock, counters);
    REQUIRE(wildcard.set_key(key_for(1, 0xAA), 10s).is_ok());
    Endpoint b(clock);
    REQUIRE(b.socket->set_key(key_for(1, 0xAA), 10s).is_ok());
    const uint8_t byte = 1;
    CHECK(wildcard.sendTo(b.address(), &byte, 1, false) == EADDRNOTAVAIL);
    CHECK(counters->unsent_no_address == 1);
    // Told the address peers reach it at, it talks.
    auto own = loopback();
    own.setPort(wildcard.getBoundRef(AF_INET).getPort());
    wildcard.set_own_addresses({own});
    CHECK(wildcard.sendTo(b.address(), &byte, 1, false) == 0);
    REQUIRE(test::wait_until([&] { return b.count() == 1; }, 5s));
}

TEST_CASE("without a key nothing is sent in the clear") {
    ManualClock clock;
    Endpoint a(clock), b(clock);
    CHECK(a.send(b, "secret") == EPERM);
    CHECK(a.counters->unsent_no_key == 1);
}

TEST_CASE("an epoch change loses no traffic during the grace period, then the old key is refused") {
    ManualClock clock;
    Endpoint a(clock), b(clock);
    REQUIRE(a.socket->set_key(key_for(1, 1), 5s).is_ok());
    REQUIRE(b.socket->set_key(key_for(1, 1), 5s).is_ok());
    REQUIRE(b.socket->set_key(key_for(2, 2), 5s).is_ok());  // b adopts epoch 2 first
    REQUIRE(a.send(b, "still epoch 1") == 0);
    REQUIRE(test::wait_until([&] { return b.count() == 1; }, 5s));
    clock.advance(6s);  // grace over
    REQUIRE(a.send(b, "too late") == 0);
    REQUIRE(test::wait_until([&] { return b.counters->refused_epoch == 1; }, 5s));
    REQUIRE(a.socket->set_key(key_for(2, 2), 5s).is_ok());
    REQUIRE(a.send(b, "epoch 2") == 0);
    REQUIRE(test::wait_until([&] { return b.count() == 2; }, 5s));
    CHECK(b.received[1] == "epoch 2");
}

TEST_CASE("a peer still on the previous epoch is answered in it during the grace period") {
    ManualClock clock;
    Endpoint a(clock), b(clock);
    REQUIRE(a.socket->set_key(key_for(1, 1), 5s).is_ok());
    REQUIRE(b.socket->set_key(key_for(1, 1), 5s).is_ok());
    REQUIRE(a.socket->set_key(key_for(2, 2), 5s).is_ok());  // a moved on; b has not heard yet
    REQUIRE(b.send(a, "ping in epoch 1") == 0);
    REQUIRE(test::wait_until([&] { return a.count() == 1; }, 5s));
    REQUIRE(a.send(b, "pong") == 0);  // sealed in epoch 1, which b can open
    REQUIRE(test::wait_until([&] { return b.count() == 1; }, 5s));
    CHECK(b.received[0] == "pong");
    CHECK(b.counters->refused() == 0);
}

TEST_CASE("a rival key for the same epoch replaces the current one; the loser still opens during grace") {
    ManualClock clock;
    Endpoint a(clock), b(clock);
    REQUIRE(a.socket->set_key(key_for(3, 1), 5s).is_ok());
    REQUIRE(b.socket->set_key(key_for(3, 1), 5s).is_ok());
    REQUIRE(b.socket->set_key(key_for(3, 1), 5s).is_ok());  // the same key again: nothing changes
    REQUIRE(b.socket->set_key(key_for(3, 9), 5s).is_ok());  // the rival epoch 3 won at b
    REQUIRE(a.send(b, "sealed with the losing key") == 0);
    REQUIRE(test::wait_until([&] { return b.count() == 1; }, 5s));
    REQUIRE(a.socket->set_key(key_for(3, 9), 5s).is_ok());
    REQUIRE(a.send(b, "sealed with the winner") == 0);
    REQUIRE(test::wait_until([&] { return b.count() == 2; }, 5s));
    clock.advance(6s);
    Endpoint late(clock);
    REQUIRE(late.socket->set_key(key_for(3, 1), 5s).is_ok());
    REQUIRE(late.send(b, "too late") == 0);
    REQUIRE(test::wait_until([&] { return b.counters->refused_tag == 1; }, 5s));
    CHECK(b.count() == 2);
}

TEST_CASE("an older epoch's key, reported late, does not replace the current one") {
    ManualClock clock;
    Endpoint a(clock), b(clock);
    REQUIRE(a.socket->set_key(key_for(2, 2), 5s).is_ok());
    REQUIRE(a.socket->set_key(key_for(1, 1), 5s).is_ok());  // ignored
    REQUIRE(b.socket->set_key(key_for(2, 2), 5s).is_ok());
    clock.advance(6s);  // no grace left for anything older
    REQUIRE(a.send(b, "still epoch 2") == 0);
    REQUIRE(test::wait_until([&] { return b.count() == 1; }, 5s));
}

TEST_CASE("in an open network only gossip is sealed, and unsealed gossip is refused") {
    ManualClock clock;
    Endpoint a(clock, SealScope::kGossipOnly), b(clock, SealScope::kGossipOnly);
    REQUIRE(a.socket->set_key(key_for(1, 0xAA), 10s).is_ok());
    REQUIRE(b.socket->set_key(key_for(1, 0xAA), 10s).is_ok());
    Tap tap;
    const std::string opendht = "d1:ad2:id20:"; // OpenDHT's own traffic passes in the clear
    const std::string gossip = std::string(1, static_cast<char>(GossipSocket::kMarker)) + "\x01membership";
    REQUIRE(a.send_to(tap.socket->getBoundRef(AF_INET), opendht) == 0);
    REQUIRE(a.send_to(tap.socket->getBoundRef(AF_INET), gossip) == 0);
    REQUIRE(test::wait_until([&] { return tap.count() == 2; }, 5s));
    auto clear = tap.at(0), sealed = tap.at(1);
    CHECK(std::string(clear.begin(), clear.end()) == opendht);
    CHECK(sealed[0] == SealedSocket::kVersion);
    CHECK(std::string(sealed.begin(), sealed.end()).find("membership") == std::string::npos);

    REQUIRE(a.send(b, opendht) == 0);
    REQUIRE(a.send(b, gossip) == 0);
    REQUIRE(test::wait_until([&] { return b.count() == 2; }, 5s));
    CHECK(b.received[1] == gossip);  // opened
    // A stranger's gossip in the clear, as anyone could send it, is refused.
    tap.inject(b, std::vector<uint8_t>(gossip.begin(), gossip.end()));
    REQUIRE(test::wait_until([&] { return b.counters->refused_unsealed == 1; }, 5s));
    CHECK(b.count() == 2);
}

// OpenDHT hands back the packets it has read; they go down the stack to the
// socket that reads into them, so the next datagram lands in a buffer used
// before. Before, each relay kept them in a list of its own that nothing
// read: up to 65,536 packets with their buffers, a socket.
TEST_CASE("the packets OpenDHT hands back go down to the socket that reads into them") {
    ManualClock clock;
    auto address = loopback();
    address.setPort(9);
    auto feed = std::make_unique<test::FeedSocket>(address);
    test::FeedSocket* below = feed.get();
    std::unique_ptr<dht::net::DatagramSocket> under_gossip = std::move(feed);
    SUBCASE("gossip over the socket that reads") {}
    SUBCASE("gossip over a sealed socket over it") {
        under_gossip = std::make_unique<SealedSocket>(std::move(under_gossip), clock, std::make_shared<SealCounters>(),
                                                      SealScope::kGossipOnly);  // OpenDHT's own traffic in the clear
    }
    GossipSocket gossip(std::move(under_gossip));
    std::vector<size_t> capacities;  // of each packet OpenDHT is given
    gossip.setOnReceive([&](dht::net::PacketList&& packets) {
        for (const auto& p : packets) capacities.push_back(p.data.capacity());
        return std::move(packets);  // read at once, handed back
    });
    const std::string large = "d1:ad2:id20:" + std::string(400, 'x'), small = "d1:ad2:id20:";
    below->feed(reinterpret_cast<const uint8_t*>(large.data()), large.size(), address);
    below->feed(reinterpret_cast<const uint8_t*>(small.data()), small.size(), address);
    REQUIRE(capacities.size() == 2);
    CHECK(capacities[0] == large.size());
    CHECK(capacities[1] >= large.size());  // the first datagram's buffer
}
