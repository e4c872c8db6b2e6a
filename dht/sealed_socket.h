#pragma once
// SealedSocket: the sealed overlay's transport. It wraps another
// DatagramSocket (UdpSocket in a node) and seals every datagram with
// AES-256-GCM under the network's current epoch key, so that a host without
// the key can neither read the overlay's traffic nor get a datagram accepted.
// OpenDHT above it is unchanged.
//
// Wire format of one datagram (all integers big-endian):
//   version:u8 = 1 | epoch:u32 | sender:u64 | counter:u32 | ciphertext | tag[16]
// The 17-byte header is the AEAD's associated data; sender‖counter is the
// nonce. `sender` is random per socket and per key, and `counter` counts its
// datagrams, so a nonce never repeats under one key; receivers refuse a
// (sender, counter) seen before (a 1024-wide window per sender).
//
// After a key change the previous key still opens datagrams for a bounded
// grace period, and a peer heard speaking the previous epoch is answered in
// it, so that an epoch change, which members adopt at slightly different
// times, loses no traffic in either direction. After the grace period the
// previous key is dropped.
// Every refusal is counted by reason. Thread-safe: sendTo() from OpenDHT's
// thread, receiving on the inner socket's thread, set_key() from the owner.

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include <opendht/network_utils.h>

#include "common/clock.h"
#include "crypto/aead.h"
#include "dht/replay_window.h"

namespace dhtalk {

struct SealCounters {
    std::atomic<uint64_t> sealed{0};
    std::atomic<uint64_t> opened{0};
    std::atomic<uint64_t> refused_truncated{0};
    std::atomic<uint64_t> refused_version{0};
    std::atomic<uint64_t> refused_epoch{0};     // an epoch we hold no key for
    std::atomic<uint64_t> refused_tag{0};       // forged, damaged, or another key
    std::atomic<uint64_t> refused_replay{0};
    std::atomic<uint64_t> unsent_no_key{0};
    uint64_t refused() const {
        return refused_truncated + refused_version + refused_epoch + refused_tag + refused_replay;
    }
};

struct EpochKey {
    uint32_t epoch = 0;
    crypto::AeadKey key{};
};

class SealedSocket final : public dht::net::DatagramSocket {
public:
    static constexpr uint8_t kVersion = 1;
    static constexpr size_t kHeaderBytes = 17;
    static constexpr size_t kOverheadBytes = kHeaderBytes + crypto::kAeadTagBytes;
    static constexpr size_t kMaxSenders = 4096;

    // `clock` must outlive the socket.
    SealedSocket(std::unique_ptr<dht::net::DatagramSocket> inner, const Clock& clock,
                 std::shared_ptr<SealCounters> counters);
    ~SealedSocket() override;

    // Seals from now on with `key`; the key it replaces keeps opening
    // datagrams for `grace`. Installing the current key again is a no-op; a
    // different key for the current epoch (a rival epoch that won) replaces it;
    // a key of an older epoch is ignored.
    Status set_key(const EpochKey& key, std::chrono::milliseconds grace);

    // Opens one sealed datagram received outside the inner socket (the
    // simulated network delivers to OpenDHT directly): the plaintext, or
    // nullopt if it is refused (and counted).
    std::optional<std::vector<uint8_t>> open_datagram(const uint8_t* data, size_t size, const dht::SockAddr& from);

    int sendTo(const dht::SockAddr& dest, const uint8_t* data, size_t size, bool replied) override;
    bool hasIPv4() const override { return inner_->hasIPv4(); }
    bool hasIPv6() const override { return inner_->hasIPv6(); }
    const dht::SockAddr& getBoundRef(sa_family_t family) const override { return inner_->getBoundRef(family); }
    void stop() override { inner_->stop(); }

private:
    struct Keyring {
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

    const Clock& clock_;
    std::shared_ptr<SealCounters> counters_;
    std::mutex mutex_;
    std::optional<Keyring> current_;   // guarded by mutex_
    std::optional<Keyring> previous_;  // guarded by mutex_
    SteadyTime previous_until_{};      // guarded by mutex_
    // The epoch each peer last sealed with (by address), bounded.
    std::unordered_map<std::string, uint32_t> peer_epoch_;  // guarded by mutex_
    uint64_t sender_id_ = 0;           // guarded by mutex_
    uint64_t next_counter_ = 0;        // guarded by mutex_
    // Destroyed first: its receive thread must stop before the keys go.
    std::unique_ptr<dht::net::DatagramSocket> inner_;
};

}  // namespace dhtalk
