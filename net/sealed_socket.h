#pragma once
// SealedSocket: the sealed overlay's transport. It wraps another
// DatagramSocket (UdpSocket in a node) and seals every datagram with
// AES-256-GCM under the network's current epoch key, so that a host without
// the key can neither read the overlay's traffic nor get a datagram accepted.
// OpenDHT above it is unchanged.
//
// Wire format of one datagram (all integers big-endian):
//   version:u8 = 2 | epoch:u32 | sender:u64 | counter:u32 | sent_ms:u64 |
//   ciphertext | tag[16]
// sender‖counter is the nonce. `sender` is random per socket and per key,
// and `counter` counts its datagrams, so a nonce never repeats under one key;
// receivers refuse a (sender, counter) seen before (a 1024-wide window per
// sender).
//
// The associated data is the 25-byte header followed by the datagram's path:
// the sender's own address and the receiver's address (length, IP, port), as
// the sender addresses them and the receiver sees them. A datagram captured
// on its way from A to B therefore opens only at B and only as coming from A:
// replayed to another member, or sent again from the replayer's address, it
// fails its tag. A socket's own address for a family is the advertised one
// (set_own_addresses), else the address it is bound to; with neither (bound
// to every interface, nothing advertised) it can neither send nor receive on
// that family.
//
// `sent_ms` (the sender's wall clock) keeps replay protection across a
// receiver's restart, when its replay windows start empty: a socket opens
// only datagrams sealed since it was created. A peer whose clock runs s
// behind is therefore not heard for s after a restart; members keep their
// clocks in sync, as records already require.
//
// After a key change the previous key still opens datagrams for a bounded
// grace period, and a peer heard speaking the previous epoch is answered in
// it, so that an epoch change, which members adopt at slightly different
// times, loses no traffic in either direction. After the grace period the
// previous key is dropped.
// In an open network (`SealScope::kGossipOnly`) OpenDHT's datagrams pass in
// the clear, so that stock peers can join, and only dhtalk's own gossip
// (membership and presence, marked as gossip_socket.h says) is sealed: an
// unsealed gossip datagram is refused, so that no one without the epoch key
// speaks for a member.
// Every refusal is counted by reason. Thread-safe: sendTo() from OpenDHT's
// thread, receiving on the inner socket's thread, set_key() from the owner.

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "crypto/aead.h"
#include "net/relay_socket.h"
#include "net/replay_window.h"

namespace dhtalk {

struct SealCounters {
    std::atomic<uint64_t> sealed{0};
    std::atomic<uint64_t> opened{0};
    std::atomic<uint64_t> refused_truncated{0};
    std::atomic<uint64_t> refused_version{0};
    std::atomic<uint64_t> refused_epoch{0};     // an epoch we hold no key for
    std::atomic<uint64_t> refused_tag{0};       // forged, damaged, or another key
    std::atomic<uint64_t> refused_replay{0};
    std::atomic<uint64_t> refused_stale{0};     // sealed before this socket was created
    std::atomic<uint64_t> refused_no_address{0};  // no own address for its family
    std::atomic<uint64_t> refused_unsealed{0};  // gossip-only scope: gossip in the clear, or sealed non-gossip
    std::atomic<uint64_t> unsent_no_key{0};
    std::atomic<uint64_t> unsent_no_address{0};
    uint64_t refused() const {
        return refused_truncated + refused_version + refused_epoch + refused_tag + refused_replay + refused_stale +
               refused_no_address + refused_unsealed;
    }
};

enum class SealScope { kEverything, kGossipOnly };

struct EpochKey {
    uint32_t epoch = 0;
    crypto::AeadKey key{};
};

class SealedSocket final : public RelaySocket {
public:
    static constexpr uint8_t kVersion = 2;
    static constexpr size_t kHeaderBytes = 25;
    static constexpr size_t kOverheadBytes = kHeaderBytes + crypto::kAeadTagBytes;
    static constexpr size_t kMaxSenders = 4096;

    // `clock` must outlive the socket.
    SealedSocket(std::unique_ptr<dht::net::DatagramSocket> inner, const Clock& clock,
                 std::shared_ptr<SealCounters> counters, SealScope scope = SealScope::kEverything);
    ~SealedSocket() override;

    // Seals from now on with `key`; the key it replaces keeps opening
    // datagrams for `grace`. Installing the current key again is a no-op; a
    // different key for the current epoch (a rival epoch that won) replaces it;
    // a key of an older epoch is ignored.
    Status set_key(const EpochKey& key, std::chrono::milliseconds grace);

    // The addresses peers reach this socket at (one per family is used),
    // replacing those it is bound to. A node gives its advertised host.
    void set_own_addresses(const std::vector<dht::SockAddr>& addresses);

    int sendTo(const dht::SockAddr& dest, const uint8_t* data, size_t size, bool replied) override;
    bool hasIPv4() const override { return inner_->hasIPv4(); }
    bool hasIPv6() const override { return inner_->hasIPv6(); }
    const dht::SockAddr& getBoundRef(sa_family_t family) const override { return inner_->getBoundRef(family); }
    void stop() override { inner_->stop(); }

private:
    struct Keyring {
        Keyring() {}  // user-provided: clang cannot default-construct a nested class with member initializers here
        uint32_t epoch = 0;
        crypto::AeadKey key{};
        std::unique_ptr<crypto::Aead> aead;
        ReplayGuard replay{kMaxSenders};
    };

    dht::net::PacketList on_inner_receive(dht::net::PacketList&& packets);
    // Opens one datagram in place; false if refused (counted).
    bool open(dht::net::ReceivedPacket& packet, std::vector<uint8_t>& scratch);
    void new_sender_id();  // mutex_ held
    // The key to seal for `dest` with (mutex_ held).
    Keyring& ring_for(const dht::SockAddr& dest);
    // This socket's address in `family`, or null (mutex_ held).
    const dht::SockAddr* own_address(sa_family_t family) const;

    // Whether this received datagram may go up (opened into `scratch` if it
    // was sealed; `sealed` says so). False if refused (counted).
    bool accept(dht::net::ReceivedPacket& packet, std::vector<uint8_t>& scratch, bool& sealed);

    const Clock& clock_;
    std::shared_ptr<SealCounters> counters_;
    const SealScope scope_;
    const int64_t created_ms_;  // wall clock at creation: datagrams sealed before are refused
    std::mutex mutex_;
    std::optional<Keyring> current_;   // guarded by mutex_
    std::optional<Keyring> previous_;  // guarded by mutex_
    SteadyTime previous_until_{};      // guarded by mutex_
    // The epoch each peer last sealed with (by address), bounded.
    std::unordered_map<std::string, uint32_t> peer_epoch_;  // guarded by mutex_
    dht::SockAddr own4_, own6_;        // guarded by mutex_; unset: none for the family
    uint64_t sender_id_ = 0;           // guarded by mutex_
    uint64_t next_counter_ = 0;        // guarded by mutex_
    // Destroyed first: its receive thread must stop before the keys go.
    std::unique_ptr<dht::net::DatagramSocket> inner_;
};

}  // namespace dhtalk
