#include "net/sealed_socket.h"

#include <array>
#include <cerrno>
#include <span>

#include "common/log.h"
#include "net/gossip_socket.h"

namespace dhtalk {
namespace {

void put_u32(uint8_t* p, uint32_t v) {
    for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (24 - 8 * i));
}
void put_u64(uint8_t* p, uint64_t v) {
    for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (56 - 8 * i));
}
uint32_t get_u32(const uint8_t* p) {
    return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}
uint64_t get_u64(const uint8_t* p) { return (uint64_t{get_u32(p)} << 32) | get_u32(p + 4); }

std::string addr_key(const dht::SockAddr& a) { return {reinterpret_cast<const char*>(a.get()), a.getLength()}; }

crypto::AeadNonce nonce_of(const uint8_t* header) {
    crypto::AeadNonce n;
    std::copy(header + 5, header + 5 + n.size(), n.begin());
    return n;
}

// The associated data: the header and the datagram's path, each address
// as length, IP and port. Built on the stack: it is made for every datagram.
class AssociatedData {
public:
    AssociatedData(const uint8_t* header, const dht::SockAddr& from, const dht::SockAddr& to) {
        std::copy(header, header + SealedSocket::kHeaderBytes, bytes_.begin());
        size_ = SealedSocket::kHeaderBytes;
        append(from);
        append(to);
    }
    std::span<const uint8_t> span() const { return {bytes_.data(), size_}; }

private:
    void append(const dht::SockAddr& a) {
        const bool v4 = a.getFamily() == AF_INET;
        const auto* ip = v4 ? reinterpret_cast<const uint8_t*>(&a.getIPv4().sin_addr)
                            : reinterpret_cast<const uint8_t*>(&a.getIPv6().sin6_addr);
        const size_t n = v4 ? 4 : 16;
        bytes_[size_++] = static_cast<uint8_t>(n);
        std::copy(ip, ip + n, bytes_.begin() + static_cast<long>(size_));
        size_ += n;
        bytes_[size_++] = static_cast<uint8_t>(a.getPort() >> 8);
        bytes_[size_++] = static_cast<uint8_t>(a.getPort());
    }
    std::array<uint8_t, SealedSocket::kHeaderBytes + 2 * (1 + 16 + 2)> bytes_{};
    size_t size_ = 0;
};

bool usable_own(const dht::SockAddr& a) {
    return a && (a.getFamily() == AF_INET || a.getFamily() == AF_INET6) && !a.isUnspecified() && a.getPort() != 0;
}

}  // namespace

SealedSocket::SealedSocket(std::unique_ptr<dht::net::DatagramSocket> inner, const Clock& clock,
                           std::shared_ptr<SealCounters> counters, SealScope scope)
    : clock_(clock),
      counters_(std::move(counters)),
      scope_(scope),
      created_ms_(to_unix_millis(clock.wall_now())),
      inner_(std::move(inner)) {
    if (usable_own(inner_->getBoundRef(AF_INET))) own4_ = inner_->getBoundRef(AF_INET);
    if (usable_own(inner_->getBoundRef(AF_INET6))) own6_ = inner_->getBoundRef(AF_INET6);
    inner_->setOnReceive([this](dht::net::PacketList&& packets) { return on_inner_receive(std::move(packets)); });
}

SealedSocket::~SealedSocket() { inner_->stop(); }

void SealedSocket::new_sender_id() {
    sender_id_ = crypto::random_u64();
    next_counter_ = 0;
}

Status SealedSocket::set_key(const EpochKey& key, std::chrono::milliseconds grace) {
    auto aead = crypto::Aead::create(key.key);
    if (!aead) return aead.status();
    std::lock_guard lock(mutex_);
    if (current_ && current_->epoch == key.epoch && current_->key == key.key) return Status::ok();
    // Adoptions can be reported out of order; an older epoch's key never
    // replaces a newer one (nor resets its replay windows).
    if (current_ && key.epoch < current_->epoch) return Status::ok();
    if (current_) {
        previous_ = std::move(current_);
        previous_until_ = clock_.now() + grace;
    }
    current_.emplace();
    current_->epoch = key.epoch;
    current_->key = key.key;
    current_->aead = std::move(aead).value();
    new_sender_id();  // a fresh nonce space for the new key
    return Status::ok();
}

void SealedSocket::set_own_addresses(const std::vector<dht::SockAddr>& addresses) {
    std::lock_guard lock(mutex_);
    for (const auto& a : addresses) {
        if (!usable_own(a)) continue;
        (a.getFamily() == AF_INET ? own4_ : own6_) = a;
    }
}

const dht::SockAddr* SealedSocket::own_address(sa_family_t family) const {
    const dht::SockAddr& a = family == AF_INET ? own4_ : own6_;
    return (family == AF_INET || family == AF_INET6) && a ? &a : nullptr;
}

SealedSocket::Keyring& SealedSocket::ring_for(const dht::SockAddr& dest) {
    if (previous_ && previous_->epoch != current_->epoch && clock_.now() < previous_until_) {
        auto it = peer_epoch_.find(addr_key(dest));
        if (it != peer_epoch_.end() && it->second == previous_->epoch) return *previous_;
    }
    return *current_;
}

int SealedSocket::sendTo(const dht::SockAddr& dest, const uint8_t* data, size_t size, bool replied) {
    if (scope_ == SealScope::kGossipOnly && (size == 0 || data[0] != GossipSocket::kMarker))
        return inner_->sendTo(dest, data, size, replied);  // OpenDHT's own, in the clear
    std::vector<uint8_t> out;
    out.reserve(kOverheadBytes + size);
    out.resize(kHeaderBytes);
    {
        std::lock_guard lock(mutex_);
        if (!current_) {
            counters_->unsent_no_key++;
            return EPERM;  // never send in the clear on a sealed overlay
        }
        const dht::SockAddr* own = own_address(dest.getFamily());
        if (!own) {
            counters_->unsent_no_address++;
            return EADDRNOTAVAIL;
        }
        if (next_counter_ > UINT32_MAX) new_sender_id();
        Keyring& ring = ring_for(dest);
        out[0] = kVersion;
        put_u32(&out[1], ring.epoch);
        put_u64(&out[5], sender_id_);
        put_u32(&out[13], static_cast<uint32_t>(next_counter_++));
        put_u64(&out[17], static_cast<uint64_t>(to_unix_millis(clock_.wall_now())));
        const AssociatedData ad(out.data(), *own, dest);
        Status s = ring.aead->seal(nonce_of(out.data()), ad.span(), {data, size}, out);
        if (!s) return EIO;
    }
    counters_->sealed++;
    return inner_->sendTo(dest, out.data(), out.size(), replied);
}

bool SealedSocket::open(dht::net::ReceivedPacket& packet, std::vector<uint8_t>& scratch) {
    const auto& d = packet.data;
    if (d.size() < kOverheadBytes) {
        counters_->refused_truncated++;
        return false;
    }
    if (d[0] != kVersion) {
        counters_->refused_version++;
        return false;
    }
    const uint32_t epoch = get_u32(&d[1]);
    const uint64_t sender = get_u64(&d[5]);
    const uint32_t counter = get_u32(&d[13]);
    const uint64_t sent_ms = get_u64(&d[17]);
    std::lock_guard lock(mutex_);
    if (previous_ && clock_.now() >= previous_until_) previous_.reset();
    const dht::SockAddr* own = own_address(packet.from.getFamily());
    if (!own) {
        counters_->refused_no_address++;
        return false;
    }
    const AssociatedData ad(d.data(), packet.from, *own);
    // The current key, then the previous one: after a rival epoch won, both
    // may carry the same epoch number.
    Keyring* ring = nullptr;
    bool known_epoch = false;
    for (auto* candidate : {current_ ? &*current_ : nullptr, previous_ ? &*previous_ : nullptr}) {
        if (!candidate || candidate->epoch != epoch) continue;
        known_epoch = true;
        if (candidate->aead->open(nonce_of(d.data()), ad.span(), {d.data() + kHeaderBytes, d.size() - kHeaderBytes},
                                  scratch)) {
            ring = candidate;
            break;
        }
    }
    if (!known_epoch) {
        counters_->refused_epoch++;
        DHTALK_LOG(kDebug, "sealed", "refused a datagram from " << packet.from.toString() << ": epoch " << epoch
                                                                << " is neither " << (current_ ? current_->epoch : 0)
                                                                << " nor the previous one");
        return false;
    }
    if (!ring) {
        counters_->refused_tag++;
        DHTALK_LOG(kDebug, "sealed", "refused a datagram from " << packet.from.toString()
                                                                << ": bad tag (forged, or another path or key)");
        return false;
    }
    // Sealed before this socket existed: a previous run of this node may
    // have accepted it already, and its replay windows are gone.
    if (sent_ms < static_cast<uint64_t>(created_ms_)) {
        counters_->refused_stale++;
        DHTALK_LOG(kDebug, "sealed", "refused a datagram from " << packet.from.toString()
                                                                << ": sealed before this node started");
        return false;
    }
    // Checked only once authentic, so that forgeries cannot fill the windows.
    if (!ring->replay.accept(sender, counter)) {
        counters_->refused_replay++;
        DHTALK_LOG(kDebug, "sealed", "refused a datagram from " << packet.from.toString() << ": replayed");
        return false;
    }
    if (peer_epoch_.size() >= kMaxSenders) peer_epoch_.clear();  // a bound; stale entries only cost a wrong guess
    peer_epoch_[addr_key(packet.from)] = epoch;
    counters_->opened++;
    return true;
}

bool SealedSocket::accept(dht::net::ReceivedPacket& packet, std::vector<uint8_t>& scratch, bool& sealed) {
    sealed = true;
    if (scope_ == SealScope::kEverything) return open(packet, scratch);
    const auto& d = packet.data;
    if (!d.empty() && d[0] != kVersion) {
        sealed = false;
        if (d[0] != GossipSocket::kMarker) return true;  // OpenDHT's own, in the clear
        counters_->refused_unsealed++;
        DHTALK_LOG(kDebug, "sealed", "refused an unsealed gossip datagram from " << packet.from.toString());
        return false;
    }
    if (!open(packet, scratch)) return false;
    if (scratch.empty() || scratch[0] != GossipSocket::kMarker) {
        counters_->refused_unsealed++;  // only gossip is sealed in this scope
        return false;
    }
    return true;
}

dht::net::PacketList SealedSocket::on_inner_receive(dht::net::PacketList&& packets) {
    dht::net::PacketList accepted, refused;
    std::vector<uint8_t> scratch;
    while (!packets.empty()) {
        auto& p = packets.front();
        bool sealed = false;
        auto& dest = accept(p, scratch, sealed) ? accepted : refused;
        if (&dest == &accepted && sealed) p.data.swap(scratch);
        dest.splice(dest.end(), packets, packets.begin());
    }
    for (auto& p : refused) p.data.clear();
    if (!accepted.empty()) hand_up(std::move(accepted), refused);  // with what OpenDHT gives back
    return refused;  // the socket below reads into these again
}

}  // namespace dhtalk
