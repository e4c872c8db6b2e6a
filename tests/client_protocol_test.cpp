// Client protocol frames: what round-trips, and what a hostile client can
// send (frame bombs, truncation, wrong version, garbage, oversized params).
#include "tests/doctest.h"

#include "net/client_protocol.h"

using namespace dhtalk;

TEST_CASE("frames round-trip, several per read and split across reads") {
    ClientFrame f;
    f.id = 42;
    f.kind = "put";
    f.params = {{"record", std::string("\x00\x01\xff", 3)}, {"n", uint64_t{7}}, {"flag", true},
                {"ids", std::vector<std::string>{"a", "b"}}};
    const std::string bytes = encode_frame(f) + encode_frame(ClientFrame::error_reply(43, Status::denied("no")));
    FrameReader r;
    for (size_t i = 0; i < bytes.size(); i += 5) REQUIRE(r.feed(std::string_view(bytes).substr(i, 5)));
    auto first = r.next();
    REQUIRE(first);
    REQUIRE(*first);
    CHECK((*first)->id == 42);
    CHECK((*first)->text("record", 16).value() == std::string("\x00\x01\xff", 3));
    CHECK((*first)->number("n").value() == 7);
    CHECK((*first)->flag("flag").value());
    CHECK((*first)->list("ids").value().size() == 2);
    CHECK((*first)->text("n", 16).status().code() == Code::kInvalidArgument);  // a number is not text
    CHECK((*first)->text("record", 2).status().message().find("longer") != std::string::npos);
    auto second = r.next();
    REQUIRE(second);
    CHECK((*second)->status().code() == Code::kPermissionDenied);
    CHECK_FALSE(r.next());
    CHECK(r.buffered() == 0);
}

TEST_CASE("a frame that declares more than the bound is refused before it is buffered") {
    FrameReader r(1024);
    CHECK(r.feed(std::string("\x00\x00\x04\x01", 4)).code() == Code::kInvalidArgument);
    FrameReader bomb;
    CHECK_FALSE(bomb.feed(std::string("\xff\xff\xff\xff", 4)));
    // A bomb right behind a good frame: the good one is read, then the bomb refused.
    FrameReader behind;
    REQUIRE(behind.feed(encode_frame(ClientFrame::reply_to(1)) + std::string("\x7f\xff\xff\xff", 4)));
    auto good = behind.next();
    REQUIRE(good);
    CHECK(good->is_ok());
    auto bad = behind.next();
    REQUIRE(bad);
    CHECK(bad->status().code() == Code::kInvalidArgument);
}

TEST_CASE("malformed frames are refused with a reason") {
    auto decode = [](std::string_view body) { return decode_frame(body).status(); };
    using namespace std::string_view_literals;
    CHECK(decode(""sv).code() == Code::kInvalidArgument);
    CHECK(decode("\x91\x01"sv).code() == Code::kInvalidArgument);  // [1]
    CHECK(decode("\x96\x02\x01\xa1x\x00\xa0\x80"sv).message().find("version 2") != std::string::npos);
    CHECK(decode("\x96\x01\x01\xa1x\x00\xa0\x01"sv).message().find("not a map") != std::string::npos);
    CHECK(decode("\x96\x01\x01\xa1x\x00\xa0\x81\x01\x01"sv).code() == Code::kInvalidArgument);  // number as a name
    CHECK(decode("\x96\x01\x01\xa1x\x00\xa0\x81\xa1k\x81\x01\x01"sv).code() == Code::kInvalidArgument);  // map value
    CHECK(decode("\xdd\xff\xff\xff\xff"sv).code() == Code::kInvalidArgument);  // array of 4 billion
    std::string many("\x96\x01\x01\xa1x\x00\xa0\xde\x00\x40", 11);  // 64 params: over the bound
    for (int i = 0; i < 64; ++i) many += std::string("\xa1") + char('A' + i % 26) + "\x01";
    CHECK(decode(many).code() == Code::kInvalidArgument);
    const std::string good = encode_frame(ClientFrame::reply_to(5));
    for (size_t cut = 4; cut < good.size(); ++cut) CHECK_FALSE(decode_frame(good.substr(4, cut - 4)));
}
