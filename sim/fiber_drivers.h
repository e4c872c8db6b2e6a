#pragma once
// FiberDrivers: a simulated node's drivers. Every drive runs on the node's
// OwnerDrivers; the turns of those that may block (Drivers::start_blocking:
// a Worker's jobs) run on a fiber (sim/fiber.h), so that a blocking call
// inside one can park it (Parking) while virtual time passes: the node's
// other drives and the other hosts go on, as the other threads of a running
// node would. A parked turn ends when what it waits for is done; a drive
// destroyed meanwhile first ends its parked turn (the wait gives up, as a
// stopping node's requests fail) and waits for it, as a thread's would.
//
// Single-threaded, like the rest of the simulator.

#include <memory>
#include <string>

#include "common/drivers.h"

namespace dhtalk {

class FiberDrivers final : public Drivers {
public:
    explicit FiberDrivers(std::shared_ptr<OwnerDrivers> owner) : owner_(std::move(owner)) {}
    std::unique_ptr<Drive> start(const std::string& name, Turn turn) override { return owner_->start(name, std::move(turn)); }
    std::unique_ptr<Drive> start_blocking(const std::string& name, Turn turn) override;

    struct Turning;  // a blocking drive's state

private:
    class BlockingDrive;
    std::shared_ptr<OwnerDrivers> owner_;
};

// A wait a blocking turn parks in. Taken inside the turn (here()), handed to
// whatever will end the wait (a network event), and waited on before the
// turn does anything else.
class Parking : public std::enable_shared_from_this<Parking> {
public:
    // For the blocking turn running now, or null if the caller is not in one
    // (or its drive is being destroyed): then it cannot park and does what
    // it does at once.
    static std::shared_ptr<Parking> here();
    // Parks the turn until done(). False when the drive was destroyed
    // meanwhile: the caller gives up.
    bool wait();
    // Ends the wait: the turn goes on from wait(), now. Later calls do nothing.
    void done();

private:
    friend class FiberDrivers;
    FiberDrivers::Turning* turning_ = nullptr;  // null once the wait is over
    bool given_up_ = false;
};

}  // namespace dhtalk
