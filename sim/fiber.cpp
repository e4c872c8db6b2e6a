#include "sim/fiber.h"

#include <ucontext.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <vector>

// AddressSanitizer has to be told when the stack changes, or it takes the
// fiber's frames for overflows of the thread's stack.
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#define DHTALK_ASAN_FIBERS 1
#endif

namespace dhtalk {
namespace {

// Generous for a job's frames, sanitizers' included; only the pages a body
// touches are ever backed by memory.
constexpr size_t kStackBytes = 1 << 20;
// A simulation makes a fiber for every job a worker runs: stacks are kept
// for the next ones rather than mapped and unmapped each time.
constexpr size_t kStacksKept = 64;

using Stack = std::unique_ptr<char[]>;
thread_local std::vector<Stack> spare_stacks;
thread_local Fiber* running = nullptr;

Stack take_stack() {
    if (spare_stacks.empty()) return Stack(new char[kStackBytes]);  // not zeroed: untouched pages stay unmapped
    Stack s = std::move(spare_stacks.back());
    spare_stacks.pop_back();
    return s;
}

}  // namespace

struct Fiber::Context {
    ucontext_t fiber{};
    ucontext_t caller{};
    Stack stack = take_stack();
    ~Context() {
        if (spare_stacks.size() < kStacksKept) spare_stacks.push_back(std::move(stack));
    }
#ifdef DHTALK_ASAN_FIBERS
    void* fake_stack = nullptr;
    const void* caller_bottom = nullptr;
    size_t caller_size = 0;
#endif
};

Fiber::Fiber(std::function<void()> body) : body_(std::move(body)), context_(std::make_unique<Context>()) {}

Fiber::~Fiber() {
    if (started_ && !finished_) std::abort();  // a parked fiber's frames cannot be unwound from here
}

Fiber* Fiber::current() { return running; }

void Fiber::enter(unsigned hi, unsigned lo) {
    auto* self = reinterpret_cast<Fiber*>((static_cast<uintptr_t>(hi) << 32) | lo);
#ifdef DHTALK_ASAN_FIBERS
    __sanitizer_finish_switch_fiber(nullptr, &self->context_->caller_bottom, &self->context_->caller_size);
#endif
    self->body_();
    self->finished_ = true;
#ifdef DHTALK_ASAN_FIBERS
    __sanitizer_start_switch_fiber(nullptr, self->context_->caller_bottom, self->context_->caller_size);  // for good
#endif
    // Returning ends the body: uc_link takes the thread back to the caller.
}

bool Fiber::resume() {
    if (finished_ || running == this) return finished_;
    Context& c = *context_;
    if (!started_) {
        started_ = true;
        getcontext(&c.fiber);
        c.fiber.uc_stack.ss_sp = c.stack.get();
        c.fiber.uc_stack.ss_size = kStackBytes;
        c.fiber.uc_link = &c.caller;
        const auto self = reinterpret_cast<uintptr_t>(this);
        makecontext(&c.fiber, reinterpret_cast<void (*)()>(&Fiber::enter), 2, static_cast<unsigned>(self >> 32),
                    static_cast<unsigned>(self & 0xffffffffu));
    }
    Fiber* outer = running;
    running = this;
#ifdef DHTALK_ASAN_FIBERS
    void* fake = nullptr;
    __sanitizer_start_switch_fiber(&fake, c.stack.get(), kStackBytes);
#endif
    swapcontext(&c.caller, &c.fiber);
#ifdef DHTALK_ASAN_FIBERS
    __sanitizer_finish_switch_fiber(fake, nullptr, nullptr);
#endif
    running = outer;
    return finished_;
}

void Fiber::suspend() {
    Fiber* self = running;
    if (!self) std::abort();  // nothing to go back to
    Context& c = *self->context_;
#ifdef DHTALK_ASAN_FIBERS
    __sanitizer_start_switch_fiber(&c.fake_stack, c.caller_bottom, c.caller_size);
#endif
    swapcontext(&c.fiber, &c.caller);
#ifdef DHTALK_ASAN_FIBERS
    __sanitizer_finish_switch_fiber(c.fake_stack, &c.caller_bottom, &c.caller_size);
#endif
}

}  // namespace dhtalk
