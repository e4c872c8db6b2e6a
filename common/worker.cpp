#include "common/worker.h"

#include <algorithm>

namespace dhtalk {

Worker::Worker(Drivers& drivers, const std::string& name, size_t max_queued)
    : max_queued_(max_queued),
      stats_(drivers.work_queues()),
      drive_(drivers.start_blocking(name, [this](SteadyTime now) { return turn(now); })) {}

bool Worker::post(std::function<void()> job) {
    {
        std::lock_guard lock(mutex_);
        if (stopping_) return false;
        if (jobs_.size() >= max_queued_) {
            ++stats_.refused;
            return false;
        }
        jobs_.push_back(std::move(job));
        ++stats_.queued;
        stats_.held(jobs_.size());
        drive_->wake();  // under the lock: stop() cannot take the drive meanwhile
    }
    return true;
}

void Worker::stop() {
    std::unique_ptr<Drive> drive;
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
        stats_.queued -= jobs_.size();
        jobs_.clear();
        drive = std::move(drive_);
    }
    drive.reset();  // waits for a running job
}

SteadyTime Worker::turn(SteadyTime now) {
    std::function<void()> job;
    {
        std::lock_guard lock(mutex_);
        if (stopping_ || jobs_.empty()) return SteadyTime::max();
        job = std::move(jobs_.front());
        jobs_.pop_front();
        --stats_.queued;
    }
    job();
    std::lock_guard lock(mutex_);
    return jobs_.empty() ? SteadyTime::max() : now;
}

WorkerPool::WorkerPool(Drivers& drivers, const std::string& name, size_t count, size_t max_queued) {
    count = std::max<size_t>(count, 1);
    for (size_t i = 0; i < count; ++i)
        workers_.push_back(std::make_unique<Worker>(drivers, name + "-" + std::to_string(i), max_queued / count + 1));
}

bool WorkerPool::post(std::function<void()> job) { return workers_[next_++ % workers_.size()]->post(std::move(job)); }

bool WorkerPool::post_keyed(const std::string& key, std::function<void()> job) {
    return workers_[std::hash<std::string>{}(key) % workers_.size()]->post(std::move(job));
}

void WorkerPool::stop() {
    for (auto& w : workers_) w->stop();
}

}  // namespace dhtalk
