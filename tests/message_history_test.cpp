// The profile's message log (client/message_history.h) and the content of
// messages (client/message_content.h): what is shown once, the receipts
// owed and paid, the states of sent messages, a line torn by a crash; and
// content of every kind, with refusal of what is out of shape.
#include "client/attachment.h"
#include "client/message_content.h"
#include "client/message_history.h"
#include "records/record_bodies.h"

#include <fstream>

#include "testing/test_util.h"
#include "tests/doctest.h"

using namespace dhtalk;
using namespace dhtalk::client;

namespace {

MessageHistory open_history(const std::filesystem::path& file) {
    auto h = MessageHistory::open(file);
    REQUIRE_MESSAGE(h.is_ok(), h.status().message());
    return std::move(h).value();
}

ChatMessage incoming(const std::string& peer, const std::string& id, int64_t sent_ms) {
    return {false, peer, id, sent_ms, "text " + id, 0, {}};
}

}  // namespace

TEST_CASE("received messages are shown once, and owe one receipt of each kind, across restarts") {
    test::TempDir dir;
    const auto file = dir / "messages.jsonl";
    {
        auto h = open_history(file);
        REQUIRE(h.append({incoming("bob", "1", 10), incoming("bob", "2", 20), incoming("carol", "1", 15)}).is_ok());
        CHECK(h.received("bob", "2"));
        CHECK_FALSE(h.received("carol", "2"));
        CHECK(h.unshown().size() == 3);
        REQUIRE(h.mark_shown({incoming("bob", "1", 10)}).is_ok());
        CHECK(h.unshown().size() == 2);
        CHECK(h.owed(SentState::kDelivered).at("bob") == std::vector<std::string>{"1", "2"});
        REQUIRE(h.paid("bob", SentState::kDelivered, {"1", "2"}).is_ok());
    }
    auto h = open_history(file);
    CHECK(h.unshown().size() == 2);
    const auto delivered = h.owed(SentState::kDelivered);
    CHECK_FALSE(delivered.count("bob"));
    CHECK(delivered.at("carol") == std::vector<std::string>{"1"});
    CHECK(h.owed(SentState::kRead).at("bob").size() == 2);
    // A message received again is known, and not shown twice.
    CHECK(h.received("bob", "1"));
}

TEST_CASE("a sent message's state follows its receipts, and a late one never undoes a later state") {
    test::TempDir dir;
    auto h = open_history(dir / "messages.jsonl");
    REQUIRE(h.append({{true, "bob", "a", 1, "hi", 0, {}}, {true, "bob", "b", 2, "there", 0, {}}, {true, "carol", "c", 3, "yo", 0, {}}}).is_ok());
    REQUIRE(h.append_receipts({{"bob", "r1", SentState::kRead, {"a"}}}).is_ok());
    REQUIRE(h.append_receipts({{"bob", "r2", SentState::kDelivered, {"a", "b"}}}).is_ok());
    CHECK(h.received("bob", "r2"));
    auto sent = h.sent("bob", 100);
    REQUIRE(sent.is_ok());
    REQUIRE(sent->size() == 2);
    CHECK((*sent)[0].second == SentState::kRead);
    CHECK((*sent)[1].second == SentState::kDelivered);
    auto all = h.sent({}, 100);
    REQUIRE(all.is_ok());
    CHECK(all->size() == 3);
    CHECK(all->back().second == SentState::kStored);
    // A receipt from someone else does not move bob's messages.
    REQUIRE(h.append_receipts({{"carol", "r3", SentState::kRead, {"b"}}}).is_ok());
    CHECK(h.sent("bob", 100)->at(1).second == SentState::kDelivered);
}

TEST_CASE("a sent message past its expiry with no receipt is expired; a receipt outranks the expiry") {
    test::TempDir dir;
    auto h = open_history(dir / "messages.jsonl");
    REQUIRE(h.append({{true, "bob", "a", 1, "hi", 1000, {}}, {true, "bob", "b", 2, "there", 1000, {}}, {true, "bob", "c", 3, "?", 0, {}}}).is_ok());
    REQUIRE(h.append_receipts({{"bob", "r1", SentState::kDelivered, {"b"}}}).is_ok());
    auto before = h.sent("bob", 999);
    REQUIRE(before.is_ok());
    CHECK(before->at(0).second == SentState::kStored);
    auto after = h.sent("bob", 1000);
    REQUIRE(after.is_ok());
    CHECK(after->at(0).second == SentState::kExpired);
    CHECK(after->at(1).second == SentState::kDelivered);
    CHECK(after->at(2).second == SentState::kStored);  // no expiry known
    // The expiry is kept with the message.
    auto again = open_history(dir / "messages.jsonl");
    CHECK(again.sent("bob", 5000)->at(0).first.expires_ms == 1000);
}

TEST_CASE("a line torn by a crash is skipped, and the next one starts a line of its own") {
    test::TempDir dir;
    const auto file = dir / "messages.jsonl";
    {
        auto h = open_history(file);
        REQUIRE(h.append({incoming("bob", "1", 1)}).is_ok());
    }
    std::ofstream(file, std::ios::app) << R"({"dir":"in","peer":"bob","id":"2","sen)";
    {
        auto h = open_history(file);
        CHECK_FALSE(h.received("bob", "2"));
        REQUIRE(h.append({incoming("bob", "3", 3)}).is_ok());
    }
    auto h = open_history(file);
    CHECK(h.received("bob", "1"));
    CHECK(h.received("bob", "3"));
    CHECK(h.conversation("bob")->size() == 2);
}

TEST_CASE("content of every kind round-trips, and content out of shape is refused") {
    const std::string file = encode_attachment({"cat.png", "image/png", 3, std::string(32, 'k'), std::string(32, 'h'),
                                                {std::string(64, 'a')}});
    const std::string privacy = encode_privacy(PrivacyList{false, {std::string(40, 'b')}, {}, true}).value();
    const std::string bob(40, 'b');
    for (const MessageContent& c :
         {MessageContent{"text", "hello", 5, {}, {}, ""}, MessageContent{"delivered", "", 6, {"a", "b"}, {}, ""},
          MessageContent{"read", "", 7, {"a"}, {}, ""}, MessageContent{"file", "a cat", 8, {}, file, ""},
          MessageContent{"text", "a copy", 9, {}, {}, bob}, MessageContent{"file", "a cat", 10, {}, file, bob},
          MessageContent{"privacy", "", 11, {}, privacy, ""}}) {
        auto back = decode_content(encode_content(c));
        REQUIRE(back.is_ok());
        CHECK(back->kind == c.kind);
        CHECK(back->text == c.text);
        CHECK(back->sent_ms == c.sent_ms);
        CHECK(back->refs == c.refs);
        CHECK(back->attachment == c.attachment);
        CHECK(back->to == c.to);
    }
    for (const MessageContent& bad :
         {MessageContent{"text", "hello", 5, {"a"}, {}, ""}, MessageContent{"read", "", 5, {}, {}, ""},
          MessageContent{"delivered", "words", 5, {"a"}, {}, ""}, MessageContent{"shout", "x", 5, {}, {}, ""},
          MessageContent{"read", "", 5, std::vector<std::string>(kMaxReceiptRefs + 1, "a"), {}, ""},
          MessageContent{"file", "no file", 5, {}, {}, ""}, MessageContent{"text", "hi", 5, {}, file, ""},
          MessageContent{"read", "", 5, {"a"}, file, ""},
          // A copy of a receipt, a privacy list with text or a recipient or
          // without a list, a file's descriptor over its bound.
          MessageContent{"read", "", 5, {"a"}, {}, bob}, MessageContent{"privacy", "x", 5, {}, privacy, ""},
          MessageContent{"privacy", "", 5, {}, privacy, bob}, MessageContent{"privacy", "", 5, {}, {}, ""},
          MessageContent{"file", "big", 5, {}, std::string(kMaxAttachmentBytes + 1, 'f'), ""},
          MessageContent{"text", "hi", 5, {}, {}, std::string(65, 'b')}}) {
        CAPTURE(bad.kind);
        CHECK(decode_content(encode_content(bad)).status().code() == Code::kCorruption);
    }
    const std::string good = encode_content({"delivered", "", 6, {"a", "b"}, {}, ""});
    for (size_t cut = 0; cut < good.size(); ++cut) CHECK_FALSE(decode_content(good.substr(0, cut)).is_ok());
}

TEST_CASE("a history refreshed takes in what another process appended, and only that") {
    test::TempDir dir;
    const auto file = dir / "messages.jsonl";
    auto mine = open_history(file);
    auto theirs = open_history(file);
    REQUIRE(theirs.append({incoming("bob", "1", 1)}).is_ok());
    CHECK_FALSE(mine.received("bob", "1"));
    REQUIRE(mine.refresh().is_ok());
    CHECK(mine.received("bob", "1"));
    CHECK(mine.unshown().size() == 1);
    REQUIRE(mine.mark_shown(mine.unshown()).is_ok());
    REQUIRE(theirs.refresh().is_ok());
    CHECK(theirs.unshown().empty());
    // Read twice, nothing counts twice.
    REQUIRE(mine.refresh().is_ok());
    CHECK(mine.owed(SentState::kDelivered).at("bob").size() == 1);
    // A file that shrank is refused: it must be opened again.
    std::filesystem::resize_file(file, 10);
    CHECK(mine.refresh().code() == Code::kCorruption);
}

TEST_CASE("a file's descriptor round-trips, and one out of shape is refused") {
    Attachment a{"holiday.jpg", "image/jpeg", 200000, std::string(32, 'k'), std::string(32, 'h'),
                 {std::string(64, 'c')}};
    auto back = decode_attachment(encode_attachment(a));
    REQUIRE(back.is_ok());
    CHECK(back->name == a.name);
    CHECK(back->size == a.size);
    CHECK(back->manifest == a.manifest);
    auto refused = [](Attachment bad) { return decode_attachment(encode_attachment(bad)).status().code() == Code::kCorruption; };
    Attachment short_key = a;
    short_key.key = "k";
    CHECK(refused(short_key));
    Attachment bad_id = a;
    bad_id.manifest = {"not a chunk id"};
    CHECK(refused(bad_id));
    Attachment too_few = a;  // 200 GB in one manifest chunk
    too_few.size = 200ull << 30;
    CHECK(refused(too_few));
    Attachment none = a;
    none.manifest.clear();
    CHECK(refused(none));
    const std::string good = encode_attachment(a);
    for (size_t cut = 0; cut < good.size(); ++cut) CHECK_FALSE(decode_attachment(good.substr(0, cut)).is_ok());
    CHECK_FALSE(decode_attachment(good + "x").is_ok());
}

TEST_CASE("a sender's file name is saved as a plain name in the folder asked for") {
    CHECK(safe_file_name("cat.png") == "cat.png");
    CHECK(safe_file_name("../../etc/passwd") == "passwd");
    CHECK(safe_file_name("C:\\Users\\me\\x.txt") == "x.txt");
    CHECK(safe_file_name("..") == "attachment");
    CHECK(safe_file_name("dir/") == "attachment");
    CHECK(safe_file_name(std::string("a\nb\x01" "c", 5)) == "abc");
    CHECK(safe_file_name(std::string(1000, 'n')).size() == kMaxAttachmentNameBytes);
}
