// Fibers, and the simulated node's drivers that park a blocking turn on one
// while virtual time passes (sim/fiber.h, sim/fiber_drivers.h).
#include <vector>

#include "common/worker.h"
#include "sim/fiber.h"
#include "sim/fiber_drivers.h"

#include "tests/doctest.h"

using namespace dhtalk;

TEST_CASE("a fiber runs until it suspends, goes on when resumed, and knows it is running") {
    std::vector<int> seen;
    Fiber* inside = nullptr;
    Fiber f([&] {
        inside = Fiber::current();
        seen.push_back(1);
        Fiber::suspend();
        seen.push_back(2);
    });
    CHECK(Fiber::current() == nullptr);
    CHECK_FALSE(f.resume());
    CHECK(inside == &f);
    CHECK(seen == std::vector<int>{1});
    CHECK(Fiber::current() == nullptr);
    CHECK(f.resume());
    CHECK(seen == std::vector<int>{1, 2});
    CHECK(f.finished());
    CHECK(f.resume());  // a finished fiber stays finished
}

namespace {

// An owner's drivers as a simulated node has them, run by hand.
struct Node {
    std::shared_ptr<OwnerDrivers> owner = std::make_shared<OwnerDrivers>();
    FiberDrivers drivers{owner};
    SteadyTime now{};
    void run() { owner->run_due(now); }
};

}  // namespace

TEST_CASE("a worker's job parks in a wait while the node's other drives take their turns, and goes on when it is done") {
    Node node;
    std::shared_ptr<Parking> parked;
    std::vector<std::string> log;
    Worker worker(node.drivers, "asker", 8);
    int ticks = 0;
    auto other = node.drivers.start("other", [&](SteadyTime) {
        ++ticks;
        return SteadyTime::max();
    });
    REQUIRE(worker.post([&] {
        log.push_back("asking");
        parked = Parking::here();
        REQUIRE(parked);
        CHECK(parked->wait());
        log.push_back("answered");
    }));
    REQUIRE(worker.post([&] { log.push_back("second job"); }));
    node.run();
    CHECK(log == std::vector<std::string>{"asking"});  // the second job waits behind the parked one
    other->wake();
    node.run();
    CHECK(ticks == 2);  // the other drive still takes its turns
    CHECK(Parking::here() == nullptr);  // not inside a blocking turn
    parked->done();
    CHECK(log == std::vector<std::string>{"asking", "answered"});
    node.run();
    CHECK(log == std::vector<std::string>{"asking", "answered", "second job"});
    parked->done();  // a second done() does nothing
}

TEST_CASE("a worker stopped while its job waits: the wait gives up, the job ends, and stop() returns") {
    Node node;
    std::shared_ptr<Parking> parked;
    bool answered = true, ended = false;
    auto worker = std::make_unique<Worker>(node.drivers, "asker", 8);
    REQUIRE(worker->post([&] {
        parked = Parking::here();
        answered = parked->wait();
        CHECK(Parking::here() == nullptr);  // a stopping drive's turn cannot park again
        ended = true;
    }));
    node.run();
    REQUIRE(parked);
    CHECK_FALSE(ended);
    worker.reset();
    CHECK(ended);
    CHECK_FALSE(answered);
    parked->done();  // the network's event, later: nothing left to resume
}
