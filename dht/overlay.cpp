#include "dht/overlay.h"

#include <condition_variable>
#include <cstdarg>
#include <mutex>

#include <opendht/log_enable.h>

#include "common/log.h"
#include "dht/issuance_log.h"
#include "dht/record_validator.h"
#include "net/gossip_socket.h"
#include "net/udp_socket.h"

namespace dhtalk {
namespace {

dht::LogMethod log_method(log::Level level) {
    return dht::LogMethod([level](char const* format, va_list args) {
        if (!log::enabled(level)) return;
        char buf[1024];
        const int n = std::vsnprintf(buf, sizeof buf, format, args);
        if (n < 0) return;
        std::string_view line(buf, std::min<size_t>(static_cast<size_t>(n), sizeof buf - 1));
        while (!line.empty() && line.back() == '\n') line.remove_suffix(1);
        // A node bound to one address family still starts searches on the
        // other, and OpenDHT reports each as an error: it is not one.
        const auto shown = line.find("unsupported protocol") != std::string_view::npos ? log::Level::kDebug : level;
        if (log::enabled(shown)) log::write(shown, "opendht", line);
    });
}

}  // namespace

std::shared_ptr<dht::Logger> make_dht_logger() {
    // Any logger makes OpenDHT format its arguments for every debug line,
    // which doubled local get latency in bench/loopback_bench. Its output is
    // routine events (it logs "new search" as a warning) and is only worth
    // that price when debugging, so it is attached at --log-level debug only.
    if (!log::enabled(log::Level::kDebug)) return nullptr;
    return std::make_shared<dht::Logger>(log_method(log::Level::kError), log_method(log::Level::kDebug),
                                         log_method(log::Level::kDebug));
}

Result<std::unique_ptr<Overlay>> Overlay::start(const OverlayConfig& config,
                                                const std::vector<dht::ValuesExport>& restored, const Clock& clock) {
    if (config.network_id == 0) return Status::invalid("network id 0 is the public Jami network");
    std::unique_ptr<Overlay> overlay(new Overlay(clock));
    overlay->network_id_ = config.network_id;

    dht::DhtRunner::Config rc;
    rc.dht_config.node_config.node_id = config.node_id;
    rc.dht_config.node_config.network = config.network_id;
    rc.dht_config.node_config.max_store_size = static_cast<ssize_t>(config.max_store_bytes);
    rc.dht_config.node_config.max_peer_req_per_sec =
        config.requests_per_address ? static_cast<ssize_t>(config.requests_per_address) : -1;
    rc.threaded = config.drivers == nullptr;
    overlay->driven_ = !rc.threaded;
    dht::SockAddr bind4, bind6;
    if (config.bind_address.empty()) {
        bind4.setFamily(AF_INET);
        bind6.setFamily(AF_INET6);
    } else {
        auto addrs = dht::SockAddr::resolve(config.bind_address);
        if (addrs.empty()) return Status::invalid("cannot use bind address '" + config.bind_address + "'");
        (addrs.front().getFamily() == AF_INET6 ? bind6 : bind4) = addrs.front();
    }
    if (bind4) bind4.setPort(config.port);
    if (bind6) bind6.setPort(config.port);
    auto socket = config.open_socket ? config.open_socket(bind4, bind6, overlay->counters_)
                                     : open_udp_datagram_socket(bind4, bind6, overlay->counters_);
    if (!socket) return Status(socket.status().code(), "cannot start the DHT: " + socket.status().message());

    dht::DhtRunner::Context context;
    std::unique_ptr<dht::net::DatagramSocket> below;
    if (config.seal_key) {
        auto sealed = std::make_unique<SealedSocket>(
            std::move(socket).value(), overlay->clock_, overlay->seal_counters_,
            config.seal_gossip_only ? SealScope::kGossipOnly : SealScope::kEverything);
        overlay->gossip_only_ = config.seal_gossip_only;
        DHTALK_TRY(sealed->set_key(*config.seal_key, config.seal_grace));
        if (!config.advertise.empty()) {
            auto own = dht::SockAddr::resolve(config.advertise);
            if (own.empty()) return Status::invalid("cannot resolve the advertised host '" + config.advertise + "'");
            for (auto& a : own) a.setPort(sealed->getBoundRef(a.getFamily()).getPort());
            sealed->set_own_addresses(own);
        }
        overlay->sealed_ = sealed.get();
        overlay->seal_grace_ = config.seal_grace;
        below = std::move(sealed);
    } else {
        below = std::move(socket).value();
    }
    auto gossip = std::make_unique<GossipSocket>(std::move(below));
    overlay->gossip_ = gossip.get();
    Overlay* self = overlay.get();
    overlay->loop_on_receive_ = config.drivers && config.loop_on_receive;
    context.sock = std::move(gossip);
    context.logger = make_dht_logger();
    context.statusChangedCallback = [self](dht::NodeStatus s4, dht::NodeStatus s6) {
        self->status_ = std::max(s4, s6);
    };
    try {
        overlay->runner_.run(rc, std::move(context));
    } catch (const std::exception& e) {
        return Status::internal(std::string("cannot start the DHT: ") + e.what());
    }
    overlay->port4_ = overlay->runner_.getBoundPort(AF_INET);
    overlay->port6_ = overlay->runner_.getBoundPort(AF_INET6);
    if (overlay->port4_ == 0 && overlay->port6_ == 0)
        return Status::busy("the DHT could not bind any UDP socket on port " + std::to_string(config.port));
    if (config.before_bootstrap) config.before_bootstrap(overlay->runner_);
    if (!restored.empty()) overlay->runner_.importValues(restored);
    for (const auto& b : config.bootstrap) {
        auto hp = parse_host_port(b);
        if (!hp) return hp.status();
        overlay->runner_.bootstrap(hp->first, std::to_string(hp->second));
    }
    if (config.drivers) {
        overlay->drive_ = config.drivers->start("dht", [self](SteadyTime) { return self->drive_turn(); });
        // The hook wakes the drive, so it is set once the drive exists; what
        // arrived before waits in OpenDHT's queue for the drive's next turn.
        if (config.loop_on_receive) {
            overlay->gossip_->set_after_dht_receive([self] { self->loop_after_receive(); });
            overlay->drive_->wake();
        } else {
            overlay->gossip_->set_after_dht_receive([self] { self->wake(); });
        }
    }
    return overlay;
}

SteadyTime Overlay::drive_turn() {
    wakeup_.begin_turn();
    return wakeup_.end_turn(loop_once());
}

void Overlay::loop_after_receive() {
    if (wakeup_.after_other_run(loop_once())) drive_->wake();
}

SteadyTime Overlay::loop_once() {
    const dht::NodeStatus before = status_;
    const SteadyTime next = runner_.loop();
    // OpenDHT runs queued requests only once connected, and before it reads
    // the datagrams of that loop: the requests that waited for the
    // connection want another loop now (its own thread checks the same).
    // A simulation keeps its drive's turns as they were.
    if (loop_on_receive_ && status_ != before) return SteadyTime::min();
    return next;
}

Overlay::~Overlay() {
    if (!stopped_) stop(std::chrono::seconds(5)).ignore_error();  // best effort on an early exit
}

void Overlay::put_record(const dht::InfoHash& key, RecordType type, const std::string& envelope,
                         std::function<void(bool stored)> done) {
    auto value = std::make_shared<dht::Value>(record_value_type(type), dht::Blob(envelope.begin(), envelope.end()),
                                              kRecordValueId);
    runner_.put(key, value, [done = std::move(done)](bool ok, const std::vector<std::shared_ptr<dht::Node>>&) { done(ok); },
                dht::time_point::max(), /*permanent*/ true);
    wake();
}

void Overlay::get_records(const dht::InfoHash& key, RecordType type, std::function<void(std::string_view)> found,
                          std::function<void()> done) {
    runner_.get(
        key,
        [found = std::move(found)](const std::vector<std::shared_ptr<dht::Value>>& values) {
            for (const auto& v : values) found(value_bytes(*v));
            return true;
        },
        [done = std::move(done)](bool) { done(); }, dht::Value::TypeFilter(record_value_type(type)));
    wake();
}

void Overlay::put_issued(const std::string& user_id, const std::string& pem, std::function<void(bool stored)> done) {
    auto value = std::make_shared<dht::Value>(kIssuanceValueType, dht::Blob(pem.begin(), pem.end()),
                                              issuance_value_id(pem));
    runner_.put(issuance_log_key(user_id), value,
                [done = std::move(done)](bool ok, const std::vector<std::shared_ptr<dht::Node>>&) { done(ok); },
                dht::time_point::max(), /*permanent*/ true);
    wake();
}

void Overlay::get_issued(const std::string& user_id, std::function<void(std::string_view)> found,
                         std::function<void()> done) {
    runner_.get(
        issuance_log_key(user_id),
        [found = std::move(found)](const std::vector<std::shared_ptr<dht::Value>>& values) {
            for (const auto& v : values) found(value_bytes(*v));
            return true;
        },
        [done = std::move(done)](bool) { done(); }, dht::Value::TypeFilter(kIssuanceValueType));
    wake();
}

OverlayStats Overlay::stats() {
    OverlayStats s;
    const auto v4 = runner_.getNodesStats(AF_INET);
    const auto v6 = runner_.getNodesStats(AF_INET6);
    s.peers_ipv4 = v4.getKnownNodes();
    s.peers_ipv6 = v6.getKnownNodes();
    const auto [bytes, count] = runner_.getStoreSize();
    s.bytes_stored = bytes;
    s.values_stored = count;
    uint64_t in = 0, out = 0;
    for (auto n : runner_.getNodeMessageStats(true)) in += n;
    for (auto n : runner_.getNodeMessageStats(false)) out += n;
    s.requests_in = requests_in_ += in;
    s.requests_out = requests_out_ += out;
    s.datagrams_in = counters_->datagrams_in;
    s.datagrams_out = counters_->datagrams_out;
    s.bytes_in = counters_->bytes_in;
    s.bytes_out = counters_->bytes_out;
    s.datagrams_refused = seal_counters_->refused();
    return s;
}

std::vector<dht::ValuesExport> Overlay::export_values() { return runner_.exportValues(); }

Status Overlay::set_seal_key(const EpochKey& key) {
    if (!sealed_ || stopped_) return Status::invalid("the overlay is not sealed");
    return sealed_->set_key(key, seal_grace_);
}

Status Overlay::stop(std::chrono::milliseconds timeout) {
    if (stopped_) return Status::ok();
    stopped_ = true;
    if (driven_) {
        // Driven: nothing else runs the loop, and nothing of its shutdown
        // is needed (see below), so stop at once; also when a start failed
        // before the drive began, where the wait below would last the whole
        // timeout. The receive thread's hook goes first: it wakes the drive
        // (and waits for a running one).
        if (gossip_) gossip_->set_after_dht_receive({});
        drive_.reset();
        runner_.shutdown({}, /*stop=*/true);
        runner_.loop();
        runner_.join();
        sealed_ = nullptr;
        gossip_ = nullptr;
        return Status::ok();
    }
    struct Done {
        std::mutex mutex;
        std::condition_variable cv;
        bool done = false;  // guarded by mutex
    };
    auto state = std::make_shared<Done>();
    // DhtRunner runs the shutdown only once the node is Connected or
    // Disconnected; a node whose peers have all left sits in Connecting and
    // would hold us for the whole timeout. Its shutdown has nothing we need
    // (no persist_path, no maintained storage: values are snapshotted by the
    // caller), so do not wait long for it.
    if (status_ == dht::NodeStatus::Connecting)
        timeout = std::min(timeout, std::chrono::milliseconds(300));
    runner_.shutdown([state] {
        std::lock_guard lock(state->mutex);
        state->done = true;
        state->cv.notify_all();
    }, /*stop=*/true);
    bool finished;
    {
        std::unique_lock lock(state->mutex);
        finished = state->cv.wait_for(lock, timeout, [&] { return state->done; });
    }
    runner_.join();
    sealed_ = nullptr;  // destroyed with OpenDHT's node
    gossip_ = nullptr;
    if (!finished)
        return Status::timeout("OpenDHT did not finish shutting down within " + std::to_string(timeout.count()) +
                               " ms; stopped it anyway");
    return Status::ok();
}

}  // namespace dhtalk
