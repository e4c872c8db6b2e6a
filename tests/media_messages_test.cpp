// The messages between members about media chunks: each decodes back, and
// a request out of shape (a hold without its owner, expiry or chunk, a
// fetch that carries one, a malformed chunk id, an unknown kind, an
// oversized chunk, trailing bytes) is refused.
#include "dht/chunk_store.h"
#include "node/front/media_messages.h"
#include "testing/test_util.h"

#include "tests/doctest.h"

using namespace dhtalk;

namespace {

MediaRequest hold_request() {
    return {MediaRequest::Kind::kHold, 7, "aa", "bb", 5, std::string(64, 'c'), "alice", 100, std::string(1000, 'x'),
            std::string(64, 's')};
}

bool refused(const MediaRequest& r) { return !decode_media_request(encode(r)).is_ok(); }

}  // namespace

TEST_CASE("media requests and answers decode back, and requests out of shape are refused") {
    const MediaRequest hold = hold_request();
    auto back = decode_media_request(encode(hold));
    REQUIRE(back.is_ok());
    CHECK(back->kind == MediaRequest::Kind::kHold);
    CHECK(back->owner == "alice");
    CHECK(back->bytes == hold.bytes);
    CHECK(body_of(*back) == body_of(hold));
    MediaRequest fetch{MediaRequest::Kind::kFetch, 7, "aa", "bb", 5, std::string(64, 'c'), "", 0, "", "sig"};
    CHECK(decode_media_request(encode(fetch)).is_ok());

    auto without = [&](auto change) {
        MediaRequest r = hold;
        change(r);
        return refused(r);
    };
    CHECK(without([](MediaRequest& r) { r.owner.clear(); }));
    CHECK(without([](MediaRequest& r) { r.owner = "../etc"; }));
    CHECK(without([](MediaRequest& r) { r.expires_s = 0; }));
    CHECK(without([](MediaRequest& r) { r.bytes.clear(); }));
    CHECK(without([](MediaRequest& r) { r.chunk_id = std::string(64, 'C'); }));
    CHECK(without([](MediaRequest& r) { r.chunk_id = "abc"; }));
    CHECK(without([](MediaRequest& r) { r.sent_ms = -1; }));
    CHECK(without([](MediaRequest& r) { r.kind = static_cast<MediaRequest::Kind>(4); }));
    CHECK(without([](MediaRequest& r) { r.bytes.assign(kMaxChunkBytes + 1, 'x'); }));
    MediaRequest carrying = fetch;  // a fetch names a chunk, it brings none
    carrying.bytes = "x";
    CHECK(refused(carrying));
    const std::string good = encode(hold);
    CHECK_FALSE(decode_media_request(good + '\0').is_ok());
    CHECK_FALSE(decode_media_request(good.substr(0, good.size() / 2)).is_ok());

    const MediaAnswer a{7, "bb", std::string(32, 'd'), Code::kNotFound, "not held here", "", "sig"};
    auto answer = decode_media_answer(encode(a));
    REQUIRE(answer.is_ok());
    CHECK(answer->status().code() == Code::kNotFound);
    CHECK_FALSE(decode_media_answer(encode(hold)).is_ok());  // a request is no answer
}
