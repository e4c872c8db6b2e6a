// common/: Status and Result, the seeded Rng, bounded JSON and file helpers.
#include <sys/stat.h>

#include <set>

#include "common/address_bucket.h"
#include "common/drivers.h"
#include "common/files.h"
#include "common/json.h"
#include "common/lru_map.h"
#include "common/recent_set.h"
#include "common/rng.h"
#include "common/shared_wakeup.h"
#include "common/status.h"
#include "common/worker.h"
#include "testing/test_util.h"

#include "tests/doctest.h"

using namespace dhtalk;

namespace {

Status fails_then_continues(bool fail, int& reached) {
    DHTALK_TRY(fail ? Status::io_error("disk gone") : Status::ok());
    reached++;
    return Status::ok();
}

}  // namespace

TEST_CASE("Status and Result carry the failure and its message") {
    Status s = Status::corruption("bad block");
    CHECK_FALSE(s.is_ok());
    CHECK(s.code() == Code::kCorruption);
    CHECK(s.to_string() == "corruption: bad block");
    Result<int> r = 7;
    REQUIRE(r.is_ok());
    CHECK(*r == 7);
    Result<int> e = Status::not_found("none");
    CHECK_FALSE(e.is_ok());
    CHECK(e.status().code() == Code::kNotFound);
    int reached = 0;
    CHECK(fails_then_continues(true, reached).code() == Code::kIoError);
    CHECK(reached == 0);
    CHECK(fails_then_continues(false, reached).is_ok());
    CHECK(reached == 1);
}

TEST_CASE("Rng: a seed gives the same sequence, values stay in range") {
    Rng a(99), b(99), c(100);
    std::vector<uint64_t> sa, sb, sc;
    for (int i = 0; i < 100; ++i) {
        sa.push_back(a.next_u64());
        sb.push_back(b.next_u64());
        sc.push_back(c.next_u64());
    }
    CHECK(sa == sb);
    CHECK(sa != sc);
    // A fixed first value pins the algorithm: replays must survive rebuilds.
    CHECK(Rng(1).next_u64() == Rng(1).next_u64());
    std::set<int64_t> seen;
    for (int i = 0; i < 10'000; ++i) {
        const int64_t v = a.uniform_int(-3, 3);
        CHECK(v >= -3);
        CHECK(v <= 3);
        seen.insert(v);
        const double d = a.uniform01();
        CHECK(d >= 0.0);
        CHECK(d < 1.0);
    }
    CHECK(seen.size() == 7);
}

TEST_CASE("JSON parsing refuses hostile documents") {
    CHECK(json::parse_object(R"({"a": 1})").is_ok());
    CHECK_FALSE(json::parse_object("[1, 2]").is_ok());                 // not an object
    CHECK_FALSE(json::parse_object(R"({"a": 1)").is_ok());             // truncated
    CHECK_FALSE(json::parse_object(R"({"a": 1, "a": 2})").is_ok());    // duplicate key
    CHECK_FALSE(json::parse_object(R"({"a": 1} trailing)").is_ok());   // garbage after
    CHECK_FALSE(json::parse_object(std::string(2000, ' ') + "{}", 1000).is_ok());  // too large
    std::string deep = R"({"a":)" + std::string(500, '[') + std::string(500, ']') + "}";
    CHECK_FALSE(json::parse_object(deep).is_ok());  // nesting bomb
}

TEST_CASE("files: bounded reads, atomic writes with permissions, exclusive locks") {
    test::TempDir dir;
    const auto file = dir / "f";
    REQUIRE(write_file_atomic(file, "secret", 0600).is_ok());
    struct stat st {};
    REQUIRE(::stat(file.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    auto text = read_file(file, 100);
    REQUIRE(text.is_ok());
    CHECK(*text == "secret");
    CHECK(read_file(file, 3).status().code() == Code::kInvalidArgument);  // over the bound
    CHECK(read_file(dir / "missing", 100).status().code() == Code::kIoError);
    CHECK(read_file(dir.path(), 100).status().code() == Code::kInvalidArgument);  // a directory

    auto first = FileLock::acquire(dir / "lock");
    REQUIRE(first.is_ok());
    auto second = FileLock::acquire(dir / "lock");
    CHECK(second.status().code() == Code::kBusy);
    { FileLock released = std::move(first).value(); }
    CHECK(FileLock::acquire(dir / "lock").is_ok());
}

#include "common/rate_limiter.h"

TEST_CASE("rate limiter: a burst, then the sustained rate, per key, bounded keys") {
    ManualClock clock;
    RateLimiter limiter(2.0, 3.0, 2, clock);
    for (int i = 0; i < 3; ++i) CHECK(limiter.allow("a"));
    CHECK_FALSE(limiter.allow("a"));  // burst spent
    CHECK(limiter.allow("b"));        // another key has its own bucket
    clock.advance(std::chrono::milliseconds(500));
    CHECK(limiter.allow("a"));        // one token back after half a second at 2/s
    CHECK_FALSE(limiter.allow("a"));
    CHECK(limiter.allow("c"));        // evicts "b", the least recent
    for (int i = 0; i < 3; ++i) CHECK(limiter.allow("b"));  // forgotten: a full bucket again
}

TEST_CASE("an LRU map forgets the least recently used entry, and finding an entry makes it recent") {
    LruMap<int, std::string> m(2);
    m.find_or_insert(1, [] { return std::string("one"); });
    m.find_or_insert(2, [] { return std::string("two"); });
    REQUIRE(m.find(1) != nullptr);  // 1 is now more recent than 2
    m.find_or_insert(3, [] { return std::string("three"); });
    CHECK(m.size() == 2);
    CHECK(m.contains(1));
    CHECK_FALSE(m.contains(2));
    CHECK(m.contains(3));
    bool made = false;
    CHECK(m.find_or_insert(1, [&] { made = true; return std::string("again"); }) == "one");
    CHECK_FALSE(made);  // an entry held is found, not made again
    CHECK(m.find(2) == nullptr);
    m.find_or_insert(4, [] { return std::string("four"); });  // 3 is the least recent now
    CHECK_FALSE(m.contains(3));
    CHECK(*m.find(1) == "one");
}

TEST_CASE("a recent set remembers the latest keys and forgets them in the order they came") {
    RecentSet<std::string> s(2);
    CHECK(s.insert("a"));
    CHECK(s.insert("b"));
    CHECK_FALSE(s.insert("a"));  // held: nothing changes, "a" stays the oldest
    CHECK(s.contains("a"));
    CHECK(s.insert("c"));  // full: "a" goes, though it was looked at last
    CHECK(s.size() == 2);
    CHECK_FALSE(s.contains("a"));
    CHECK(s.contains("b"));
    CHECK(s.contains("c"));
    CHECK(s.insert("a"));  // forgotten keys are new again
    CHECK_FALSE(s.contains("b"));
}

TEST_CASE("address buckets: IPv4 by address, IPv6 by /64, mapped IPv4 as IPv4") {
    CHECK(address_bucket("192.0.2.7") == "192.0.2.7");
    CHECK(address_bucket("2001:db8:1:2:aaaa::1") == "2001:db8:1:2::/64");
    CHECK(address_bucket("2001:db8:1:2:bbbb::ff") == address_bucket("2001:db8:1:2::9"));
    CHECK(address_bucket("2001:db8:1:3::1") != address_bucket("2001:db8:1:2::1"));
    CHECK(address_bucket("::ffff:192.0.2.7") == "192.0.2.7");
    CHECK(address_bucket("not an address") == "not an address");
    CHECK(address_bucket(std::string(100, 'x')) == std::string(100, 'x'));
}

TEST_CASE("owner drivers run what is due, when woken, and nothing after a drive ends") {
    int wakes = 0;
    OwnerDrivers drivers([&] { wakes++; });
    const SteadyTime t0{};
    int turns = 0;
    auto drive = drivers.start("counter", [&](SteadyTime now) {
        turns++;
        return now + std::chrono::seconds(1);
    });
    CHECK(wakes == 1);                                            // a new drive asks for its first turn
    CHECK(drivers.run_due(t0) == t0 + std::chrono::seconds(1));  // runs it, says when next
    CHECK(turns == 1);
    CHECK(drivers.run_due(t0) == t0 + std::chrono::seconds(1));  // nothing due yet
    CHECK(turns == 1);
    drive->wake();
    CHECK(wakes == 2);
    drivers.run_due(t0);
    CHECK(turns == 2);
    drive.reset();
    CHECK(drivers.run_due(t0 + std::chrono::hours(1)) == SteadyTime::max());
    CHECK(turns == 2);
}

TEST_CASE("a worker on the owner's loop runs its jobs in order, bounded, and drops them when stopped") {
    OwnerDrivers drivers;
    Worker worker(drivers, "jobs", 2);
    std::vector<int> ran;
    CHECK(worker.post([&] { ran.push_back(1); }));
    CHECK(worker.post([&] { ran.push_back(2); }));
    CHECK_FALSE(worker.post([&] { ran.push_back(3); }));  // past the bound
    CHECK(ran.empty());                                    // only the owner's loop runs them
    const WorkQueueStats& stats = drivers.work_queues();
    CHECK(stats.queued == 2);
    CHECK(stats.deepest == 2);
    CHECK(stats.refused == 1);
    drivers.run_due(SteadyTime{});
    CHECK(ran == std::vector<int>{1, 2});
    CHECK(stats.queued == 0);
    CHECK(worker.post([&] { ran.push_back(4); }));
    CHECK(stats.queued == 1);
    worker.stop();
    CHECK(stats.queued == 0);  // dropped, not waiting
    drivers.run_due(SteadyTime{});
    CHECK(ran == std::vector<int>{1, 2});
    CHECK_FALSE(worker.post([&] { ran.push_back(5); }));
    CHECK(stats.refused == 1);  // a stopped worker's refusal is not a full queue
    CHECK(stats.deepest == 2);
}

TEST_CASE("SharedWakeup: no run of the other thread lets the drive sleep past its time") {
    const SteadyTime t0{};
    auto at = [&](int s) { return t0 + std::chrono::seconds(s); };
    SharedWakeup w;
    CHECK_FALSE(w.after_other_run(at(1)));  // before the first turn: the turn comes anyway

    w.begin_turn();
    CHECK(w.end_turn(at(60)) == at(60));
    CHECK(w.after_other_run(at(5)));         // sooner than the drive's sleep: wake it
    CHECK_FALSE(w.after_other_run(at(90)));  // later: the drive's turn comes first

    // A run between the drive's loop and its sleep: its time is kept.
    w.begin_turn();
    CHECK_FALSE(w.after_other_run(at(70)));  // compared with the old sleep (60)
    CHECK(w.end_turn(at(80)) == at(70));

    // A turn forgets what was seen in the one before.
    w.begin_turn();
    CHECK(w.end_turn(at(100)) == at(100));
}
