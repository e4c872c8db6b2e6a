#pragma once
// Worker: one thread that runs queued jobs in order, for blocking work (an
// SMS gateway, a request to another node) that must not hold up the thread
// that asks for it. The queue is bounded: post() refuses a job past it.
// Jobs still queued when the worker is stopped are dropped, not run; stop()
// waits for the one running. Thread-safe.

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace dhtalk {

class Worker {
public:
    explicit Worker(size_t max_queued);
    ~Worker() { stop(); }
    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;

    // False when the queue is full or the worker stopped: the job will not run.
    bool post(std::function<void()> job);
    void stop();

private:
    void run();

    const size_t max_queued_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<std::function<void()>> jobs_;  // guarded by mutex_
    bool stopping_ = false;                   // guarded by mutex_
    std::thread thread_;                      // last: started after everything it uses
};

}  // namespace dhtalk
