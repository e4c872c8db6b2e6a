#pragma once
// HttpListener: runs a bound cpp-httplib server's listen loop on a thread of
// its own, for the status server and the peer service. start() returns only
// once the loop runs, because cpp-httplib ignores a stop() that comes before
// it, which would leave the join in stop() waiting forever.

#include <thread>

namespace httplib {
class Server;
}

namespace dhtalk {

class HttpListener {
public:
    HttpListener() = default;
    HttpListener(const HttpListener&) = delete;
    HttpListener& operator=(const HttpListener&) = delete;
    ~HttpListener() { stop(); }

    // `server` must be bound and outlive the listener; `component` names it in the log.
    void start(httplib::Server& server, const char* component);
    void stop();

private:
    httplib::Server* server_ = nullptr;
    std::thread thread_;
};

}  // namespace dhtalk
