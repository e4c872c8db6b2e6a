#include "common/drivers.h"

#include <pthread.h>

#include <algorithm>
#include <condition_variable>
#include <thread>

namespace dhtalk {
namespace {

class ThreadDrive final : public Drive {
public:
    ThreadDrive(const Clock& clock, const std::string& name, Turn turn) : clock_(clock), turn_(std::move(turn)) {
        thread_ = std::thread([this] { run(); });
        // Shown by `top -H` and debuggers; Linux allows 15 characters.
        pthread_setname_np(thread_.native_handle(), name.substr(0, 15).c_str());
    }
    ~ThreadDrive() override {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        wake_.notify_all();
        // A turn that ends its own drive cannot wait for itself.
        if (thread_.get_id() == std::this_thread::get_id()) thread_.detach();
        else thread_.join();
    }
    void wake() override {
        {
            std::lock_guard lock(mutex_);
            woken_ = true;
        }
        wake_.notify_one();
    }

private:
    void run() {
        std::unique_lock lock(mutex_);
        SteadyTime next = SteadyTime::min();
        while (!stopping_) {
            auto ready = [&] { return stopping_ || woken_; };
            // libstdc++ cannot wait until time_point::max(); nothing is due then.
            if (next == SteadyTime::max()) wake_.wait(lock, ready);
            else wake_.wait_until(lock, next, ready);
            if (stopping_) break;
            woken_ = false;
            lock.unlock();
            next = turn_(clock_.now());
            lock.lock();
        }
    }

    const Clock& clock_;
    Turn turn_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool woken_ = false;     // guarded by mutex_
    bool stopping_ = false;  // guarded by mutex_
    std::thread thread_;
};

}  // namespace

std::unique_ptr<Drive> ThreadDrivers::start(const std::string& name, Turn turn) {
    return std::make_unique<ThreadDrive>(clock_, name, std::move(turn));
}

struct OwnerDrivers::Entry {
    Turn turn;
    SteadyTime next = SteadyTime::min();  // guarded by the owner's mutex_
    bool alive = true;                    // guarded by the owner's mutex_
};

class OwnerDrivers::OwnedDrive final : public Drive {
public:
    OwnedDrive(OwnerDrivers& owner, std::shared_ptr<Entry> entry) : owner_(owner), entry_(std::move(entry)) {}
    ~OwnedDrive() override {
        std::lock_guard lock(owner_.mutex_);
        entry_->alive = false;
        std::erase(owner_.entries_, entry_);
    }
    void wake() override { owner_.wake(entry_); }

private:
    OwnerDrivers& owner_;
    std::shared_ptr<Entry> entry_;
};

OwnerDrivers::~OwnerDrivers() = default;

std::unique_ptr<Drive> OwnerDrivers::start(const std::string&, Turn turn) {
    auto entry = std::make_shared<Entry>();
    entry->turn = std::move(turn);
    {
        std::lock_guard lock(mutex_);
        entries_.push_back(entry);
    }
    if (on_wake_) on_wake_();
    return std::make_unique<OwnedDrive>(*this, std::move(entry));
}

void OwnerDrivers::wake(const std::shared_ptr<Entry>& entry) {
    {
        std::lock_guard lock(mutex_);
        if (!entry->alive) return;
        entry->next = SteadyTime::min();
    }
    if (on_wake_) on_wake_();
}

SteadyTime OwnerDrivers::run_due(SteadyTime now) {
    for (;;) {
        std::shared_ptr<Entry> due;
        {
            std::lock_guard lock(mutex_);
            for (const auto& e : entries_)
                if (e->next <= now) {
                    due = e;
                    due->next = SteadyTime::max();  // a wake() during the turn brings it back
                    break;
                }
        }
        if (!due) break;
        // The entry is kept alive by `due` even if the turn ends its drive.
        const SteadyTime next = due->turn(now);
        std::lock_guard lock(mutex_);
        if (due->alive) due->next = std::min(due->next, next);
    }
    std::lock_guard lock(mutex_);
    SteadyTime next = SteadyTime::max();
    for (const auto& e : entries_) next = std::min(next, e->next);
    return next;
}

}  // namespace dhtalk
