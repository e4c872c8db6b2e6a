// Registration codes and their abuse limits, and the verification providers
// (the file provider, and the Vonage SMS API client against a local server
// that speaks that API).
#include "tests/doctest.h"
#include <httplib.h>

#include <fstream>
#include <thread>

#include "common/json.h"
#include "common/rng.h"
#include "node/front/registration.h"
#include "node/front/verification_sender.h"
#include "storage/memory_store.h"
#include "testing/test_util.h"

using namespace dhtalk;
using namespace std::chrono;

namespace {

const std::string kUser(40, 'a');

Registrations make_registrations(RegistrationLimits limits = {}) {
    auto rng = std::make_shared<Rng>(7);
    return Registrations(limits, [rng] { return static_cast<uint32_t>(rng->next_u64()); });
}

}  // namespace

TEST_CASE("a code is six digits, verifies once and expires") {
    auto r = make_registrations();
    WallTime t{};
    const std::string code = r.start(kUser, "10.0.0.1", t).value();
    CHECK(code.size() == 6);
    CHECK(code.find_first_not_of("0123456789") == std::string::npos);
    CHECK(r.verify(kUser, code, "10.0.0.1", t + seconds(30)));
    CHECK(r.verify(kUser, code, "10.0.0.1", t + seconds(31)).code() == Code::kNotFound);  // single use

    const std::string late = r.start(kUser, "10.0.0.1", t).value();
    CHECK(r.verify(kUser, late, "10.0.0.1", t + minutes(15) + seconds(1)).code() == Code::kNotFound);
}

TEST_CASE("a code allows three wrong guesses, then it is burnt") {
    auto r = make_registrations();
    WallTime t{};
    const std::string code = r.start(kUser, "10.0.0.1", t).value();
    const std::string wrong = code == "000000" ? "000001" : "000000";
    CHECK(r.verify(kUser, wrong, "10.0.0.1", t).code() == Code::kPermissionDenied);
    CHECK(r.verify(kUser, wrong, "10.0.0.2", t).code() == Code::kPermissionDenied);
    auto last = r.verify(kUser, wrong, "10.0.0.3", t);
    CHECK(last.code() == Code::kPermissionDenied);
    CHECK(last.message().find("last try") != std::string::npos);
    CHECK(r.verify(kUser, code, "10.0.0.4", t).code() == Code::kNotFound);  // even the right one, now
}

TEST_CASE("one address cannot lock a number out, and guesses stay at four per number") {
    auto r = make_registrations();
    WallTime t{};
    const std::string a = "192.0.2.1", b = "192.0.2.2", c = "192.0.2.3";
    // One address asks for codes and guesses until it is refused...
    r.start(kUser, a, t).value();
    const std::string code = r.start(kUser, a, t).value();
    CHECK(r.start(kUser, a, t).status().message().find("codes for this number from this address") != std::string::npos);
    const std::string wrong = code == "000000" ? "000001" : "000000";
    CHECK(r.verify(kUser, wrong, a, t).code() == Code::kPermissionDenied);
    CHECK(r.verify(kUser, wrong, a, t).code() == Code::kPermissionDenied);
    auto refused = r.verify(kUser, code, a, t);
    CHECK(refused.code() == Code::kResourceExhausted);
    CHECK(refused.message().find("wrong codes for this number from this address") != std::string::npos);
    // ...and the number's owner, elsewhere, still registers.
    const std::string fresh = r.start(kUser, b, t).value();
    CHECK(r.verify(kUser, fresh, b, t).is_ok());

    // Two addresses together spend the number's four wrong codes: no fifth guess anywhere.
    const std::string next = r.start(kUser, b, t).value();
    const std::string miss = next == "000000" ? "000001" : "000000";
    CHECK(r.verify(kUser, miss, b, t).code() == Code::kPermissionDenied);
    const std::string again = r.start(kUser, c, t).value();  // the fifth code for the number
    const std::string miss2 = again == "000000" ? "000001" : "000000";
    CHECK(r.verify(kUser, miss2, c, t).code() == Code::kPermissionDenied);
    auto locked = r.verify(kUser, again, "192.0.2.4", t);
    CHECK(locked.code() == Code::kResourceExhausted);
    CHECK(locked.message().find("wrong codes for this number:") != std::string::npos);
    CHECK(r.start(kUser, "192.0.2.4", t).status().code() == Code::kResourceExhausted);
    // The window slides: 30 minutes later the number may try again.
    CHECK(r.start(kUser, a, t + minutes(31)));
}

TEST_CASE("a registration flood from one address is cut off") {
    auto r = make_registrations();
    WallTime t{};
    std::vector<std::pair<std::string, std::string>> sent;  // user, code
    for (int i = 0; i < 100; ++i) {
        std::string user(40, '0');
        user.replace(0, std::to_string(i).size(), std::to_string(i));
        if (auto code = r.start(user, "203.0.113.9", t)) sent.emplace_back(user, *code);
    }
    REQUIRE(sent.size() == 10);
    CHECK(r.start(kUser, "203.0.113.10", t));  // another address is not affected
    // The last code it was sent still verifies; one wrong guess is heard at
    // the bound, and nothing after it.
    CHECK(r.verify(sent[9].first, sent[9].second, "203.0.113.9", t));
    const std::string wrong = sent[8].second == "000000" ? "000001" : "000000";
    CHECK(r.verify(sent[8].first, wrong, "203.0.113.9", t).code() == Code::kPermissionDenied);
    CHECK(r.verify(sent[7].first, sent[7].second, "203.0.113.9", t).code() == Code::kResourceExhausted);
}

TEST_CASE("the limits survive a restart of the node") {
    MemoryStore store;
    WallTime t = from_unix_millis(1'800'000'000'000);
    auto rng = std::make_shared<Rng>(9);
    auto random = [rng] { return static_cast<uint32_t>(rng->next_u64()); };
    {
        Registrations r({}, random, &store);
        for (int i = 0; i < 2; ++i) REQUIRE(r.start(kUser, "192.0.2.1", t));
    }
    Registrations restarted({}, random, &store);
    CHECK(restarted.start(kUser, "192.0.2.1", t + minutes(1)).status().code() == Code::kResourceExhausted);
    CHECK(restarted.start(kUser, "192.0.2.2", t + minutes(1)));
    CHECK(restarted.start(kUser, "192.0.2.1", t + minutes(31)));  // the window still slides
    // A damaged entry reads as no attempts, never as a lock-out.
    REQUIRE(store.put("rl/a:192.0.2.9", "not,a,time").is_ok());
    CHECK(restarted.start(kUser, "192.0.2.9", t + minutes(31)));
}

TEST_CASE("the number of tracked registrations is bounded") {
    RegistrationLimits limits;
    limits.max_tracked = 20;
    auto r = make_registrations(limits);
    WallTime t{};
    int sent = 0;
    for (int i = 0; i < 50; ++i) {
        std::string user(40, '0');
        user.replace(0, std::to_string(i).size(), std::to_string(i));
        if (r.start(user, "198.51.100." + std::to_string(i), t)) sent++;
    }
    CHECK(sent < 20);
    CHECK(r.pending() <= 20);
    // After the window everything stale is forgotten and registration works again.
    CHECK(r.start(kUser, "198.51.100.200", t + minutes(31)));
}

TEST_CASE("the file provider appends one JSON line per code") {
    test::TempDir dir;
    ManualClock clock;
    FileSender sender(dir / "sms.jsonl", clock);
    REQUIRE(sender.send("+15555245554", "123456"));
    REQUIRE(sender.send("+15555245555", "654321"));
    std::ifstream in(dir / "sms.jsonl");
    std::string first, second;
    std::getline(in, first);
    std::getline(in, second);
    auto line = json::parse_object(second).value();
    CHECK(line["phone"].asString() == "+15555245555");
    CHECK(line["code"].asString() == "654321");
    CHECK(line["time"].asInt64() == to_unix_seconds(clock.wall_now()));
    CHECK((std::filesystem::status(dir / "sms.jsonl").permissions() & std::filesystem::perms::others_read) ==
          std::filesystem::perms::none);
    FileSender nowhere(dir / "missing" / "sms.jsonl", clock);
    CHECK(nowhere.send("+15555245554", "1").code() == Code::kUnavailable);
}

namespace {

// A local server speaking Vonage's SMS API: POST /sms/json with a form.
struct FakeVonage {
    httplib::Server server;
    std::thread thread;
    int port = 0;
    std::mutex mutex;
    httplib::Params last;  // guarded by mutex
    std::string reply_status = "0";
    int http_status = 200;
    std::string raw_reply;  // replaces the JSON reply when set

    FakeVonage() {
        server.Post("/sms/json", [this](const httplib::Request& req, httplib::Response& res) {
            {
                std::lock_guard lock(mutex);
                last = req.params;
            }
            res.status = http_status;
            if (!raw_reply.empty()) {
                res.set_content(raw_reply, "application/json");
                return;
            }
            const bool ok = reply_status == "0" && req.get_param_value("api_key") == "key" &&
                            req.get_param_value("api_secret") == "secret";
            const std::string status = ok ? "0" : (reply_status == "0" ? "4" : reply_status);
            std::string body = R"({"message-count":"1","messages":[{"to":")" + req.get_param_value("to") +
                               R"(","status":")" + status + "\"";
            if (ok) body += R"(,"message-id":"0A0000000123ABCD1","remaining-balance":"3.14","message-price":"0.03","network":"12345")";
            else body += R"(,"error-text":"Bad Credentials")";
            body += "}]}";
            res.set_content(body, "application/json");
        });
        port = server.bind_to_any_port("127.0.0.1");
        thread = std::thread([this] { server.listen_after_bind(); });
    }
    ~FakeVonage() {
        // stop() before listening has begun would leave the thread listening.
        test::wait_until([this] { return server.is_running(); }, seconds(10));
        server.stop();
        thread.join();
    }
    VonageConfig config(std::string key = "key") {
        VonageConfig c;
        c.url = "http://127.0.0.1:" + std::to_string(port) + "/sms/json";
        c.api_key = std::move(key);
        c.api_secret = "secret";
        c.from = "dhtalk";
        c.timeout = seconds(5);
        return c;
    }
};

}  // namespace

TEST_CASE("the Vonage provider posts the API's form and reads its verdict") {
    FakeVonage gateway;
    VonageSender sender(gateway.config());
    REQUIRE(sender.send("+15555245554", "123456"));
    {
        std::lock_guard lock(gateway.mutex);
        auto param = [&](const char* k) { return gateway.last.find(k)->second; };
        CHECK(param("to") == "15555245554");
        CHECK(param("from") == "dhtalk");
        CHECK(param("text") == verification_text("123456"));
        CHECK(param("api_key") == "key");
    }
    SUBCASE("refused credentials") {
        VonageSender wrong(gateway.config("other"));
        auto s = wrong.send("+15555245554", "123456");
        CHECK(s.code() == Code::kUnavailable);
        CHECK(s.message().find("Bad Credentials") != std::string::npos);
    }
    SUBCASE("an HTTP error") {
        gateway.http_status = 500;
        CHECK(sender.send("+15555245554", "1").message().find("HTTP 500") != std::string::npos);
    }
    SUBCASE("a reply that is not the API's") {
        gateway.raw_reply = "<html>";
        CHECK(sender.send("+15555245554", "1").code() == Code::kUnavailable);
        gateway.raw_reply = R"({"messages":[]})";
        CHECK(sender.send("+15555245554", "1").message().find("no messages") != std::string::npos);
    }
}

TEST_CASE("the Vonage provider reports a gateway it cannot reach") {
    VonageConfig c;
    c.url = "http://127.0.0.1:1/sms/json";
    c.timeout = seconds(2);
    auto s = VonageSender(c).send("+15555245554", "1");
    CHECK(s.code() == Code::kUnavailable);
    CHECK(s.message().find("cannot be reached") != std::string::npos);
}
