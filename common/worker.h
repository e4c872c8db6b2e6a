#pragma once
// Worker: runs queued jobs in order on a drive of its own (drivers.h), for
// blocking work (an SMS gateway, a request to another node) that must not
// hold up the part that asks for it. The queue is bounded: post() refuses a
// job past it. The drivers' work_queues() count what waits and what is
// refused. Jobs still queued when the worker is stopped are dropped, not
// run; stop() waits for the one running. Thread-safe.

#include <atomic>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/drivers.h"

namespace dhtalk {

class Worker {
public:
    // `drivers` must outlive the worker.
    Worker(Drivers& drivers, const std::string& name, size_t max_queued);
    ~Worker() { stop(); }
    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;

    // False when the queue is full or the worker stopped: the job will not run.
    bool post(std::function<void()> job);
    void stop();

private:
    // One job a turn, so that other drives on the same owner take turns too.
    SteadyTime turn(SteadyTime now);

    const size_t max_queued_;
    WorkQueueStats& stats_;  // the drivers'
    std::mutex mutex_;
    std::deque<std::function<void()>> jobs_;  // guarded by mutex_
    bool stopping_ = false;                   // guarded by mutex_
    std::unique_ptr<Drive> drive_;            // last: started after everything it uses
};

// WorkerPool: `count` workers (at least one) named NAME-0, NAME-1, ...,
// sharing `max_queued` between them, for blocking work that may run side by
// side. post() takes turns; post_keyed() puts every job of one key on the
// same worker, in order. Thread-safe.
class WorkerPool {
public:
    WorkerPool(Drivers& drivers, const std::string& name, size_t count, size_t max_queued);
    size_t size() const { return workers_.size(); }
    // False when that worker's queue is full or the pool stopped.
    bool post(std::function<void()> job);
    bool post_keyed(const std::string& key, std::function<void()> job);
    void stop();

private:
    std::atomic<size_t> next_{0};
    std::vector<std::unique_ptr<Worker>> workers_;
};

}  // namespace dhtalk
