#pragma once
// Drivers: where a part's own work runs. A part with timers or a queue (the
// gossip service, the courier, a worker) does not start a thread: it asks
// the Drivers its environment gives for a Drive, with a turn that does what
// is due and returns when it next wants a turn. The environment chooses:
//
//   ThreadDrivers  each drive on a thread of its own, asleep on the real
//                  steady clock until its time or a wake() (a running node);
//   OwnerDrivers   every drive on the owner's thread, which calls run_due()
//                  and sleeps until the time it returns or its on_wake hook
//                  is called (a simulation: one thread, virtual time, and
//                  so the same order of events on every run).
//
// A turn must not block for long on OwnerDrivers: every other part waits.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/clock.h"

namespace dhtalk {

// Does what is due at `now`; returns when the next turn is wanted
// (SteadyTime::max(): only when woken).
using Turn = std::function<SteadyTime(SteadyTime now)>;

// One part's registration. Destroying it ends the turns: it waits for a
// running one (unless called from inside it) and no turn starts after.
class Drive {
public:
    virtual ~Drive() = default;
    // A turn soon, whatever the last one asked for. From any thread.
    virtual void wake() = 0;
};

// What the workers started on one Drivers (worker.h) tell about their
// queues: a node's status reads it, so that an operator sees work waiting
// or refused before clients notice.
struct WorkQueueStats {
    std::atomic<uint64_t> queued{0};   // jobs waiting in all the queues now
    std::atomic<uint64_t> deepest{0};  // the most jobs one queue has held
    std::atomic<uint64_t> refused{0};  // jobs refused because their queue was full

    void held(uint64_t depth) {
        uint64_t seen = deepest.load();
        while (depth > seen && !deepest.compare_exchange_weak(seen, depth)) {
        }
    }
};

class Drivers {
public:
    virtual ~Drivers() = default;
    // `name` is for diagnostics (a drive's thread is named after it). The
    // first turn runs soon after.
    virtual std::unique_ptr<Drive> start(const std::string& name, Turn turn) = 0;
    // The same, for turns that may block (a Worker's jobs wait for other
    // nodes): a simulation parks such a turn while virtual time passes.
    virtual std::unique_ptr<Drive> start_blocking(const std::string& name, Turn turn) {
        return start(name, std::move(turn));
    }
    WorkQueueStats& work_queues() { return work_queues_; }

private:
    WorkQueueStats work_queues_;
};

// A thread per drive. `clock` gives the turns their `now` and must outlive
// every drive; the threads sleep on the real steady clock.
class ThreadDrivers final : public Drivers {
public:
    explicit ThreadDrivers(const Clock& clock) : clock_(clock) {}
    std::unique_ptr<Drive> start(const std::string& name, Turn turn) override;

private:
    const Clock& clock_;
};

// Every drive on the owner's thread. Thread-safe, but turns run only inside
// run_due(), on the thread that calls it.
class OwnerDrivers final : public Drivers {
public:
    // `on_wake` is called (from whichever thread wakes a drive) when a turn
    // is due sooner than run_due() last said; may be empty.
    explicit OwnerDrivers(std::function<void()> on_wake = {}) : on_wake_(std::move(on_wake)) {}
    ~OwnerDrivers() override;
    std::unique_ptr<Drive> start(const std::string& name, Turn turn) override;
    // Runs every turn due at `now`, in the order the drives started, again
    // while any is due; returns the earliest time a turn is wanted next.
    SteadyTime run_due(SteadyTime now);

private:
    struct Entry;
    class OwnedDrive;
    void wake(const std::shared_ptr<Entry>& entry);

    std::function<void()> on_wake_;
    std::mutex mutex_;
    std::vector<std::shared_ptr<Entry>> entries_;  // guarded by mutex_; in start order
};

}  // namespace dhtalk
