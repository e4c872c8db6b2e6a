#pragma once
// Fiber: a function run on a stack of its own, which can suspend itself and
// be resumed later, on the same thread (glibc's ucontext). The simulator
// runs the turns of the drives that may block (a Worker's jobs: requests to
// other nodes) on fibers, so that a job waiting for a peer's answer parks
// while virtual time passes and the other hosts take their turns, as the
// job's thread would wait in a running node.
//
// Not thread-safe: a fiber is created, resumed and destroyed on one thread.

#include <cstddef>
#include <functional>
#include <memory>

namespace dhtalk {

class Fiber {
public:
    explicit Fiber(std::function<void()> body);
    // Only once the body has finished, or before it started: a parked
    // fiber's stack holds frames that would never unwind.
    ~Fiber();
    Fiber(const Fiber&) = delete;
    Fiber& operator=(const Fiber&) = delete;

    // Runs the body until it finishes or suspends itself; returns finished().
    // Not from inside this fiber.
    bool resume();
    bool finished() const { return finished_; }

    // The fiber whose body is running, or null on the thread's own stack.
    static Fiber* current();
    // From inside a body: back to whoever resumed it, until resumed again.
    static void suspend();

private:
    struct Context;
    static void enter(unsigned hi, unsigned lo);

    std::function<void()> body_;
    std::unique_ptr<Context> context_;
    bool started_ = false;
    bool finished_ = false;
};

}  // namespace dhtalk
