#include "node/http_listener.h"

#include <httplib.h>

#include <atomic>
#include <memory>

#include "common/log.h"

namespace dhtalk {

void HttpListener::start(httplib::Server& server, const char* component) {
    server_ = &server;
    auto ended = std::make_shared<std::atomic<bool>>(false);
    thread_ = std::thread([&server, ended, component] {
        if (!server.listen_after_bind()) DHTALK_LOG(kError, component, "the HTTP server stopped unexpectedly");
        *ended = true;
    });
    while (!server.is_running() && !*ended) std::this_thread::yield();
}

void HttpListener::stop() {
    if (server_) server_->stop();
    if (thread_.joinable()) thread_.join();
}

}  // namespace dhtalk
