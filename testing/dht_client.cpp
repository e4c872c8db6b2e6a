#include "testing/dht_client.h"

#include <future>

#include "testing/test_util.h"

namespace dhtalk::test {

TestClient::TestClient(dht::NetId network, uint16_t bootstrap_port) {
    dht::DhtRunner::Config config;
    config.dht_config.node_config.network = network;
    config.dht_config.node_config.max_peer_req_per_sec = -1;  // every test peer shares 127.0.0.1
    config.bind4 = dht::SockAddr::resolve("127.0.0.1").front();
    config.bind4.setPort(0);
    config.threaded = true;
    runner_.run(config, dht::DhtRunner::Context{});
    runner_.bootstrap("127.0.0.1", std::to_string(bootstrap_port));
}

TestClient::~TestClient() { stop(); }

bool TestClient::wait_peers(unsigned peers, std::chrono::seconds timeout) {
    return wait_until([&] { return runner_.getNodesStats(AF_INET).good_nodes >= peers; }, timeout);
}

bool TestClient::put(const dht::InfoHash& key, dht::Value value, std::chrono::seconds timeout) {
    auto done = std::make_shared<std::promise<bool>>();
    auto result = done->get_future();
    runner_.put(key, std::move(value), [done](bool ok) { done->set_value(ok); });
    return result.wait_for(timeout) == std::future_status::ready && result.get();
}

std::vector<std::string> TestClient::get(const dht::InfoHash& key, int attempts, std::chrono::seconds timeout) {
    for (int i = 0; i < attempts; ++i) {
        struct State {
            std::mutex mutex;
            std::vector<std::string> found;  // guarded by mutex
        };
        auto state = std::make_shared<State>();
        auto done = std::make_shared<std::promise<void>>();
        auto finished = done->get_future();
        runner_.get(
            key,
            [state](const std::vector<std::shared_ptr<dht::Value>>& values) {
                std::lock_guard lock(state->mutex);
                for (const auto& v : values) state->found.emplace_back(v->data.begin(), v->data.end());
                return true;
            },
            [done](bool) { done->set_value(); });
        finished.wait_for(timeout);
        std::lock_guard lock(state->mutex);
        if (!state->found.empty()) return state->found;
    }
    return {};
}

void TestClient::stop() {
    if (stopped_) return;
    stopped_ = true;
    auto done = std::make_shared<std::promise<void>>();
    auto finished = done->get_future();
    runner_.shutdown([done] { done->set_value(); }, true);
    finished.wait_for(std::chrono::seconds(5));
    runner_.join();
}

dht::Value text_value(const std::string& text, uint64_t id) {
    dht::Value v(reinterpret_cast<const uint8_t*>(text.data()), text.size());
    if (id) v.id = id;
    return v;
}

}  // namespace dhtalk::test
