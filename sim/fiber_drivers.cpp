#include "sim/fiber_drivers.h"

#include <cstdlib>
#include <utility>

#include "sim/fiber.h"

namespace dhtalk {

struct FiberDrivers::Turning {
    Turn turn;
    std::unique_ptr<Drive> inner;      // on the owner
    std::unique_ptr<Fiber> fiber;      // the turn in progress
    SteadyTime next = SteadyTime::max();  // what the last finished turn asked for
    bool woken = false;                // woken while parked: another turn once it ends
    bool stopping = false;             // the drive is being destroyed
    std::shared_ptr<Parking> parked;   // what the fiber waits for
};

namespace {

thread_local FiberDrivers::Turning* turning_now = nullptr;  // whose fiber runs now

// Runs the turn's fiber until it finishes or parks; true once finished.
bool run(FiberDrivers::Turning& t) {
    FiberDrivers::Turning* outer = std::exchange(turning_now, &t);
    const bool finished = t.fiber->resume();
    turning_now = outer;
    return finished;
}

}  // namespace

std::shared_ptr<Parking> Parking::here() {
    if (!turning_now || turning_now->stopping || Fiber::current() != turning_now->fiber.get()) return nullptr;
    auto p = std::make_shared<Parking>();
    p->turning_ = turning_now;
    return p;
}

bool Parking::wait() {
    if (!turning_) return !given_up_;  // done() came first
    turning_->parked = shared_from_this();
    Fiber::suspend();
    return !given_up_;
}

void Parking::done() {
    FiberDrivers::Turning* t = std::exchange(turning_, nullptr);
    if (!t) return;
    auto self = std::move(t->parked);  // keeps this alive until it returns
    if (!self) return;                 // done() before wait(): wait() returns at once
    if (run(*t) && t->inner) t->inner->wake();  // the owner's next turn collects what it asked for
}

class FiberDrivers::BlockingDrive final : public Drive {
public:
    BlockingDrive(OwnerDrivers& owner, const std::string& name, Turn turn) : t_(std::make_shared<Turning>()) {
        t_->turn = std::move(turn);
        // The turn keeps the state: a turn may destroy its own drive.
        t_->inner = owner.start(name, [t = t_](SteadyTime now) { return take_turn(*t, now); });
    }
    ~BlockingDrive() override {
        Turning& t = *t_;
        t.stopping = true;
        // A parked turn gives up its wait and runs to its end, as a thread's
        // turn would finish before its drive is gone. (A turn that destroys
        // its own drive cannot wait for itself: it ends after this returns.)
        const bool from_inside = t.fiber && Fiber::current() == t.fiber.get();
        while (!from_inside && t.fiber && !t.fiber->finished()) {
            auto parked = std::move(t.parked);
            if (!parked) std::abort();  // a fiber that is not running is parked
            parked->turning_ = nullptr;
            parked->given_up_ = true;
            run(t);
        }
        t.inner.reset();
    }
    void wake() override { t_->inner->wake(); }

private:
    static SteadyTime take_turn(Turning& t, SteadyTime now) {
        if (t.fiber) {
            if (!t.fiber->finished()) {
                t.woken = true;  // parked: its end wakes this drive again
                return SteadyTime::max();
            }
            t.fiber.reset();  // it ended while parked
            if (!std::exchange(t.woken, false)) return t.next;
        }
        t.fiber = std::make_unique<Fiber>([&t, now] { t.next = t.turn(now); });
        if (!run(t)) return SteadyTime::max();
        t.fiber.reset();
        return t.next;
    }

    std::shared_ptr<Turning> t_;
};

std::unique_ptr<Drive> FiberDrivers::start_blocking(const std::string& name, Turn turn) {
    return std::make_unique<BlockingDrive>(*owner_, name, std::move(turn));
}

}  // namespace dhtalk
