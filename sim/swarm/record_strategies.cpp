#include "sim/swarm/record_strategies.h"

#include <cstring>
#include <map>
#include <optional>
#include <vector>

namespace dhtalk {

using namespace std::chrono;

namespace {

constexpr seconds kPutWait{5};  // a put nobody acknowledged by then failed
constexpr seconds kAskWait{2};  // a broadcast get nobody answered with a copy by then found none

// A datagram: kind, request id, record type, key, then the envelope.
enum class Wire : uint8_t { kStore = 1, kStored, kAsk, kAnswer, kCopyAll, kCopy };
constexpr size_t kHeaderBytes = 1 + 4 + 1 + 20;

using RecordKey = std::pair<dht::InfoHash, uint8_t>;  // the record's DHT key and type

struct HeldRecord {
    std::string envelope;
    SteadyTime fresh_until = SteadyTime::max();  // broadcast's caches expire
};

class ReplicaStrategy;

// One node's part: its host on the network, what it holds, and the door
// its front end uses.
class StrategyPeer final : public SimHost, public RecordDht {
public:
    StrategyPeer(ReplicaStrategy& s, size_t index, SimNetwork::HostId host) : s_(s), index_(index), host_(host) {}

    // RecordDht
    void put_record(const dht::InfoHash& key, RecordType type, const std::string& envelope,
                    std::function<void(bool stored)> done) override;
    void get_records(const dht::InfoHash& key, RecordType type, std::function<void(std::string_view)> found,
                     std::function<void()> done) override;
    void put_issued(const std::string& user_id, const std::string& pem, std::function<void(bool stored)> done) override {
        overlay_->put_issued(user_id, pem, std::move(done));
    }
    void get_issued(const std::string& user_id, std::function<void(std::string_view)> found,
                    std::function<void()> done) override {
        overlay_->get_issued(user_id, std::move(found), std::move(done));
    }

    // SimHost
    SteadyTime on_datagram(const uint8_t* data, size_t size, const dht::SockAddr& from, SteadyTime now) override;
    SteadyTime on_wake(SteadyTime now) override;

    void set_overlay(RecordDht& overlay) { overlay_ = &overlay; }
    void start();
    void stop();
    uint64_t stored_bytes(SteadyTime now) const {
        uint64_t bytes = 0;
        for (const auto& [key, held] : kept_) bytes += held.envelope.size();
        for (const auto& [key, held] : cached_)
            if (held.fresh_until > now) bytes += held.envelope.size();
        return bytes;
    }
    bool running() const { return running_; }
    SimNetwork::HostId host() const { return host_; }

private:
    struct Waiting {
        std::function<void(bool)> put_done;
        std::function<void(std::string_view)> found;
        std::function<void()> get_done;
        SteadyTime deadline;
    };

    void send(size_t to, Wire kind, uint32_t id, const RecordKey& key, std::string_view envelope);
    const HeldRecord* lookup(const RecordKey& key, SteadyTime now) const;
    SteadyTime next_deadline() const;
    void finish(uint32_t id, bool stored);

    ReplicaStrategy& s_;
    const size_t index_;
    const SimNetwork::HostId host_;
    RecordDht* overlay_ = nullptr;
    bool running_ = false;
    std::map<RecordKey, HeldRecord> kept_;    // full: every record; broadcast: those published here
    std::map<RecordKey, HeldRecord> cached_;  // broadcast: copies from other nodes
    std::map<uint32_t, Waiting> waiting_;
    uint32_t next_id_ = 1;
};

class ReplicaStrategy final : public RecordStrategy {
public:
    ReplicaStrategy(StrategyKind kind, SimNetwork& network, size_t nodes, seconds cache_ttl)
        : kind_(kind), network_(network), cache_ttl_(cache_ttl) {
        for (size_t i = 0; i < nodes; ++i) {
            const auto host = network_.add_host();
            peers_.push_back(std::make_unique<StrategyPeer>(*this, i, host));
            network_.attach(host, peers_.back().get());
            network_.set_down(host, true);
        }
    }
    ~ReplicaStrategy() override {
        for (auto& p : peers_) network_.attach(p->host(), nullptr);
    }

    RecordDht* door(size_t node, RecordDht& overlay) override {
        peers_.at(node)->set_overlay(overlay);
        return peers_[node].get();
    }
    void started(size_t node) override { peers_.at(node)->start(); }
    void stopped(size_t node) override { peers_.at(node)->stop(); }
    uint64_t stored_bytes(size_t node) const override { return peers_.at(node)->stored_bytes(network_.now()); }
    SimNetwork::HostId host(size_t node) const override { return peers_.at(node)->host(); }

    StrategyKind kind() const { return kind_; }
    SimNetwork& network() { return network_; }
    seconds cache_ttl() const { return cache_ttl_; }
    size_t size() const { return peers_.size(); }
    StrategyPeer& peer(size_t i) { return *peers_[i]; }
    // The node whose strategy host is `host`: they were added one after the other.
    std::optional<size_t> index_of(SimNetwork::HostId host) const {
        if (peers_.empty() || host < peers_.front()->host() || host - peers_.front()->host() >= peers_.size()) return std::nullopt;
        return host - peers_.front()->host();
    }
    // The node `from` copies everything from when it starts: the next running one.
    std::optional<size_t> source_for(size_t from) const {
        for (size_t k = 1; k < peers_.size(); ++k)
            if (const size_t i = (from + k) % peers_.size(); peers_[i]->running()) return i;
        return std::nullopt;
    }

private:
    const StrategyKind kind_;
    SimNetwork& network_;
    const seconds cache_ttl_;
    std::vector<std::unique_ptr<StrategyPeer>> peers_;
};

void StrategyPeer::send(size_t to, Wire kind, uint32_t id, const RecordKey& key, std::string_view envelope) {
    std::vector<uint8_t> d(kHeaderBytes + envelope.size());
    d[0] = static_cast<uint8_t>(kind);
    std::memcpy(&d[1], &id, 4);
    d[5] = key.second;
    std::memcpy(&d[6], key.first.data(), 20);
    std::memcpy(d.data() + kHeaderBytes, envelope.data(), envelope.size());
    s_.network().send(host_, s_.network().address(s_.peer(to).host()), d.data(), d.size());
}

const HeldRecord* StrategyPeer::lookup(const RecordKey& key, SteadyTime now) const {
    if (auto it = kept_.find(key); it != kept_.end()) return &it->second;
    if (auto it = cached_.find(key); it != cached_.end() && it->second.fresh_until > now) return &it->second;
    return nullptr;
}

SteadyTime StrategyPeer::next_deadline() const {
    SteadyTime next = SteadyTime::max();
    for (const auto& [id, w] : waiting_) next = std::min(next, w.deadline);
    return next;
}

void StrategyPeer::finish(uint32_t id, bool stored) {
    auto it = waiting_.find(id);
    if (it == waiting_.end()) return;
    Waiting w = std::move(it->second);
    waiting_.erase(it);
    if (w.put_done) w.put_done(stored);
    if (w.get_done) w.get_done();
}

void StrategyPeer::put_record(const dht::InfoHash& key, RecordType type, const std::string& envelope,
                      std::function<void(bool stored)> done) {
    const RecordKey k{key, static_cast<uint8_t>(type)};
    kept_[k] = HeldRecord{envelope, SteadyTime::max()};
    if (s_.size() == 1) return done(true);
    const uint32_t id = next_id_++;
    waiting_[id] = Waiting{std::move(done), {}, {}, s_.network().now() + kPutWait};
    for (size_t i = 0; i < s_.size(); ++i)
        if (i != index_) send(i, Wire::kStore, id, k, envelope);
    s_.network().wake_at(host_, next_deadline());
}

void StrategyPeer::get_records(const dht::InfoHash& key, RecordType type, std::function<void(std::string_view)> found,
                       std::function<void()> done) {
    const RecordKey k{key, static_cast<uint8_t>(type)};
    const SteadyTime now = s_.network().now();
    if (const HeldRecord* held = lookup(k, now)) {
        found(held->envelope);
        return done();
    }
    // Full replication has nowhere else to look; a broadcast node asks around.
    if (s_.kind() == StrategyKind::kFull || s_.size() == 1) return done();
    const uint32_t id = next_id_++;
    waiting_[id] = Waiting{{}, std::move(found), std::move(done), now + kAskWait};
    for (size_t i = 0; i < s_.size(); ++i)
        if (i != index_) send(i, Wire::kAsk, id, k, {});
    s_.network().wake_at(host_, next_deadline());
}

SteadyTime StrategyPeer::on_datagram(const uint8_t* data, size_t size, const dht::SockAddr& from, SteadyTime now) {
    const auto sender = s_.network().host_at(from);
    if (!running_ || size < kHeaderBytes || !sender) return next_deadline();
    const auto from_index = s_.index_of(*sender);
    if (!from_index) return next_deadline();  // not one of the strategy's hosts
    const auto kind = static_cast<Wire>(data[0]);
    uint32_t id;
    std::memcpy(&id, data + 1, 4);
    RecordKey key{dht::InfoHash(data + 6, 20), data[5]};
    const std::string_view envelope(reinterpret_cast<const char*>(data) + kHeaderBytes, size - kHeaderBytes);
    switch (kind) {
        case Wire::kStore:
            if (s_.kind() == StrategyKind::kFull) kept_[key] = HeldRecord{std::string(envelope), SteadyTime::max()};
            else cached_[key] = HeldRecord{std::string(envelope), now + s_.cache_ttl()};
            send(*from_index, Wire::kStored, id, key, {});
            break;
        case Wire::kStored:
            finish(id, true);
            break;
        case Wire::kAsk:
            if (const HeldRecord* held = lookup(key, now)) send(*from_index, Wire::kAnswer, id, key, held->envelope);
            break;
        case Wire::kAnswer:
            if (auto it = waiting_.find(id); it != waiting_.end() && !envelope.empty()) {
                cached_[key] = HeldRecord{std::string(envelope), now + s_.cache_ttl()};
                it->second.found(envelope);
                finish(id, true);  // the first copy answers
            }
            break;
        case Wire::kCopyAll:
            for (const auto& [k, held] : kept_) send(*from_index, Wire::kCopy, 0, k, held.envelope);
            break;
        case Wire::kCopy:
            kept_[key] = HeldRecord{std::string(envelope), SteadyTime::max()};
            break;
    }
    return next_deadline();
}

SteadyTime StrategyPeer::on_wake(SteadyTime now) {
    std::vector<uint32_t> late;
    for (const auto& [id, w] : waiting_)
        if (w.deadline <= now) late.push_back(id);
    for (uint32_t id : late) finish(id, false);
    return next_deadline();
}

void StrategyPeer::start() {
    running_ = true;
    s_.network().set_down(host_, false);
    if (s_.kind() == StrategyKind::kFull)
        if (auto source = s_.source_for(index_)) send(*source, Wire::kCopyAll, 0, RecordKey{}, {});
}

void StrategyPeer::stop() {
    running_ = false;
    s_.network().set_down(host_, true);
    cached_.clear();
    waiting_.clear();  // the node's front end is gone: its callbacks with it
}

}  // namespace

std::unique_ptr<RecordStrategy> make_record_strategy(StrategyKind kind, SimNetwork& network, size_t nodes,
                                                     seconds cache_ttl) {
    return std::make_unique<ReplicaStrategy>(kind, network, nodes, cache_ttl);
}

}  // namespace dhtalk
