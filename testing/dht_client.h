#pragma once
// TestClient: a plain OpenDHT node (DhtRunner on 127.0.0.1, its own port)
// that tests use to put and get values in a dhtalk network from outside,
// the way any peer would. Blocking helpers with deadlines; stop() does the
// shutdown-then-join sequence OpenDHT 2.4.12 needs.

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <opendht/dhtrunner.h>

namespace dhtalk::test {

class TestClient {
public:
    TestClient(dht::NetId network, uint16_t bootstrap_port);
    ~TestClient();

    // Waits until the client knows at least `peers` nodes.
    bool wait_peers(unsigned peers, std::chrono::seconds timeout = std::chrono::seconds(30));
    // Puts and waits for OpenDHT's verdict.
    bool put(const dht::InfoHash& key, dht::Value value, std::chrono::seconds timeout = std::chrono::seconds(30));
    // Gets the data of the values under key; tries up to `attempts` times,
    // since one OpenDHT get may miss a stored value.
    std::vector<std::string> get(const dht::InfoHash& key, int attempts = 3,
                                 std::chrono::seconds timeout = std::chrono::seconds(20));
    void stop();

private:
    dht::DhtRunner runner_;
    bool stopped_ = false;
};

dht::Value text_value(const std::string& text, uint64_t id = 0);

}  // namespace dhtalk::test
