// The Client's messages (client.h): sending through the user's node to the
// recipient's inbox, and receiving from it, end-to-end encrypted
// (end_to_end.h), each received message kept in the history before it is
// acknowledged.
#include <algorithm>
#include <array>

#include "client/client.h"
#include "client/end_to_end.h"
#include "client/message_content.h"
#include "crypto/aead.h"
#include "crypto/signing.h"
#include "net/inbox_message.h"
#include "net/member_load.h"
#include "records/pre_key_bundle.h"

namespace dhtalk::client {

using namespace std::chrono;

namespace {

constexpr uint64_t kFetchBatch = 256;
// Rounds of fetching in one receive_messages(): a bound, not a target.
constexpr int kMaxFetchRounds = 64;
// While following, a fetch this often catches what a lost push left behind.
constexpr seconds kFollowFetchInterval{60};

int64_t now_ms() { return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count(); }

}  // namespace

Client::~Client() = default;

Result<EndToEnd*> Client::end_to_end() {
    if (!profile_.registered()) return Status::invalid("this profile has no user yet: register and verify first");
    if (!e2e_) {
        auto e = EndToEnd::open(profile_.dir / "e2e");
        if (!e) return e.status();
        e2e_ = std::move(e).value();
    }
    return e2e_.get();
}

Result<FileLock> Client::lock_messages() {
    DHTALK_TRY(ensure_private_dir(profile_.dir));
    auto lock = FileLock::wait(profile_.dir / "messages.lock");
    if (!lock) return lock.status();
    // Another process may have added to it: what it added is read in.
    if (history_ && !history_->refresh()) history_.reset();
    return lock;
}

Result<MessageHistory*> Client::history() {
    if (!history_) {
        auto h = MessageHistory::open(profile_.dir / "messages.jsonl");
        if (!h) return h.status();
        history_ = std::move(h).value();
    }
    return &*history_;
}

Status Client::publish_keys() {
    auto lock = lock_messages();
    if (!lock) return lock.status();
    DHTALK_TRY(publish_keys_locked());
    // Listed once its keys are out: a sender finds both.
    return list_this_device();
}

Status Client::publish_keys_locked() {
    auto e2e = end_to_end();
    if (!e2e) return e2e.status();
    auto bundle = (*e2e)->bundle();
    if (!bundle) return bundle.status();
    auto body = encode_pre_key_bundle(*bundle);
    if (!body) return body.status();
    Record r;
    r.type = RecordType::kPreKeys;
    r.locator = device_locator(device_id());  // each device has its own
    r.body = std::move(body).value();
    auto published = publish(std::move(r));
    if (!published) return published.status();
    return (*e2e)->mark_published();
}

Result<int64_t> Client::send_content(const std::string& to, const std::string& id, const MessageContent& content) {
    auto e2e = end_to_end();
    if (!e2e) return e2e.status();
    if (to == profile_.user_id) return Status::invalid("you cannot send a message to yourself");
    // The recipient checks our identity key against our published bundle,
    // and finds this device on our list.
    if ((*e2e)->should_publish()) DHTALK_TRY(publish_keys_locked());
    // Texts and files go to the devices listed now, the recipient's and
    // this user's (a removed one gets nothing more); receipts may use lists
    // read a moment ago.
    const bool copied = content.kind == "text" || content.kind == "file";
    if (copied || !listed_) DHTALK_TRY(list_this_device(/*fresh*/ copied));
    if ((*e2e)->known_devices(to).empty()) {
        // First contact: the devices the user lists now are theirs.
        auto pinned = pin_devices(to);
        if (!pinned) return pinned.status();
    }
    auto theirs = device_list(to, /*fresh*/ copied);
    if (!theirs) return theirs.status();
    // Every device of the recipient is checked before anything is sent: a
    // refused one holds up the message rather than leave it out silently.
    std::vector<std::string> targets;
    Status missing = Status::ok();
    for (const auto& d : theirs->list.devices) {
        Status ready = prepare_device(to, d.id);
        if (ready.code() == Code::kNotFound) {
            missing = ready;  // listed before it published its keys: it cannot be reached yet
            continue;
        }
        DHTALK_TRY(ready);
        targets.push_back(d.id);
    }
    if (targets.empty())
        return missing ? Status::not_found(to + " lists no device that takes messages now") : missing;
    // What this user sends shows on their other devices too.
    std::vector<std::string> own;
    if (copied) {
        auto ours = device_list(profile_.user_id);
        if (!ours) return ours.status();
        for (const auto& d : ours->list.devices)
            if (d.id != device_id() && prepare_device(profile_.user_id, d.id)) own.push_back(d.id);
    }
    std::vector<FrameParams> requests;
    auto add = [&](const std::string& user, const std::string& device, const MessageContent& c) -> Status {
        auto request = message_request(user, device, id, c);
        if (!request) return request.status();
        requests.push_back(std::move(request).value());
        return Status::ok();
    };
    for (const auto& device : targets) DHTALK_TRY(add(to, device, content));
    MessageContent copy = content;
    copy.to = to;
    for (const auto& device : own) DHTALK_TRY(add(profile_.user_id, device, copy));
    auto replies = call_batch("message.send", std::move(requests));
    if (!replies) return replies.status();
    // A copy that failed leaves the user's other device without it, not the
    // recipient: only the recipient's count.
    for (size_t i = 0; i < targets.size() && i < replies->size(); ++i) DHTALK_TRY((*replies)[i].status());
    // When the holders drop it undelivered; unknown (0) from a node that does not say.
    auto expires = replies->empty() ? Result<uint64_t>(Status::not_found("")) : replies->front().number("expires_ms");
    return expires ? static_cast<int64_t>(std::min<uint64_t>(*expires, INT64_MAX)) : int64_t{0};
}

Result<FrameParams> Client::message_request(const std::string& user, const std::string& device, const std::string& id,
                                            const MessageContent& content) {
    auto e2e = end_to_end();
    if (!e2e) return e2e.status();
    auto envelope = (*e2e)->encrypt(inbox_address(user, device), encode_content(content));
    if (!envelope) return envelope.status();
    return FrameParams{{"to", user},
                       {"device", device},
                       {"id", id},
                       {"body", std::move(envelope).value()},
                       {"sent_ms", static_cast<uint64_t>(std::max<int64_t>(content.sent_ms, 0))}};
}

Result<std::vector<Client::IssuedKey>> Client::logged_keys(const std::string& user_id) {
    auto reply = call("issued", {{"user_id", user_id}});
    if (!reply) return reply.status();
    auto pems = reply->list("certificates");
    if (!pems) return pems.status();
    std::vector<IssuedKey> out;
    for (const auto& pem : *pems) {
        // The node checked them; a client believes only what it checks itself.
        auto cert = crypto::parse_certificate(pem);
        if (!cert) continue;
        auto info = crypto::inspect_user_certificate(**cert);
        if (!info || info->user_id != user_id) continue;
        if (!roster_->check_user(**cert, *info, system_clock::now())) continue;
        out.push_back({info->issuer_node_id, info->not_before_s, info->not_after_s, false, pem});
    }
    std::sort(out.begin(), out.end(), [](const IssuedKey& a, const IssuedKey& b) { return a.issued_s > b.issued_s; });
    return out;
}

Result<std::vector<Client::IssuedKey>> Client::issued_keys(const std::string& user_id) {
    auto keys = logged_keys(user_id);
    if (!keys) return keys.status();
    // A list that cannot be believed (signed by a key not in the log) marks
    // no key as current.
    auto theirs = device_list(user_id, /*fresh*/ true);
    if (!theirs) return keys;
    for (const auto& d : theirs->list.devices) {
        auto record = fetch(RecordType::kPreKeys, user_id, device_locator(d.id));
        if (!record && record.status().code() != Code::kNotFound) return record.status();
        for (auto& k : *keys) k.current = k.current || (record && k.certificate == record->record.certificate);
    }
    return keys;
}

Result<ChatMessage> Client::send_message(const std::string& to, const std::string& text) {
    if (text.empty()) return Status::invalid("the message is empty");
    if (text.size() > kMaxTextBytes)
        return Status::invalid("the message is " + std::to_string(text.size()) + " bytes, over the " +
                               std::to_string(kMaxTextBytes) + " a message holds");
    auto lock = lock_messages();
    if (!lock) return lock.status();
    auto kept = history();
    if (!kept) return kept.status();
    ChatMessage m{true, to, new_message_id(), now_ms(), text, 0, {}};
    auto expires = send_content(to, m.id, MessageContent{"text", text, m.sent_ms, {}, {}, ""});
    if (!expires) return expires.status();
    m.expires_ms = *expires;
    DHTALK_TRY((*kept)->append({m}));
    note_new_devices();
    return m;
}

Result<ChatMessage> Client::send_file(const std::string& to, const std::filesystem::path& path,
                                     const std::string& type, const std::string& caption, const Progress& progress) {
    if (caption.size() > kMaxTextBytes) return Status::invalid("the caption is longer than a message holds");
    if (to == profile_.user_id) return Status::invalid("you cannot send a message to yourself");
    auto uploaded = upload_file([this](const std::string& method, std::vector<FrameParams> p) { return call_batch(method, std::move(p)); },
                                path, type, kDefaultMaxFileBytes, progress, profile_.dir / "uploads");
    if (!uploaded) return uploaded.status();
    auto lock = lock_messages();
    if (!lock) return lock.status();
    auto kept = history();
    if (!kept) return kept.status();
    const std::string descriptor = encode_attachment(*uploaded);
    ChatMessage m{true, to, new_message_id(), now_ms(), caption, 0, descriptor};
    auto expires = send_content(to, m.id, MessageContent{"file", caption, m.sent_ms, {}, descriptor, ""});
    if (!expires) return expires.status();
    m.expires_ms = *expires;
    DHTALK_TRY((*kept)->append({m}));
    note_new_devices();
    return m;
}

Result<std::filesystem::path> Client::save_attachment(const ChatMessage& m, const std::filesystem::path& dir,
                                                      const Progress& progress) {
    auto a = decode_attachment(m.attachment);
    if (!a) return a.status();
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return Status::io_error("cannot make " + dir.string() + ": " + ec.message());
    std::filesystem::path out = dir / a->name;
    for (int n = 2; std::filesystem::exists(out); ++n) out = dir / (std::to_string(n) + "-" + a->name);
    // One partial file per message, so that a download that stopped goes on.
    const auto part = dir / ("." + m.peer.substr(0, 16) + "-" + m.id + ".part");
    DHTALK_TRY(download_file([this](const std::string& method, std::vector<FrameParams> p) { return call_batch(method, std::move(p)); },
                             *a, out, progress, part));
    return out;
}

Result<size_t> Client::send_receipts(SentState state, const std::string& only) {
    auto kept = history();
    if (!kept) return kept.status();
    size_t covered = 0;
    Status first_failure = Status::ok();
    for (const auto& [peer, ids] : (*kept)->owed(state)) {
        if (!only.empty() && peer != only) continue;
        for (size_t at = 0; at < ids.size(); at += kMaxReceiptRefs) {
            const std::vector<std::string> chunk(ids.begin() + at, ids.begin() + std::min(ids.size(), at + kMaxReceiptRefs));
            auto sent = send_content(peer, new_message_id(), MessageContent{sent_state_name(state), "", now_ms(), chunk, {}, ""});
            if (!sent) {
                // Owed still; one peer's trouble (a new key) holds up no other's.
                if (first_failure) first_failure = sent.status();
                break;
            }
            // Paid once stored: a crash before this line sends it again, and
            // the peer counts it once.
            DHTALK_TRY((*kept)->paid(peer, state, chunk));
            covered += chunk.size();
        }
    }
    if (!first_failure) return first_failure;
    return covered;
}

Result<Client::ReadMarked> Client::mark_read(const std::string& user_id) {
    auto settings = privacy();
    if (!settings) return settings.status();
    auto lock = lock_messages();
    if (!lock) return lock.status();
    auto delivered = send_receipts(SentState::kDelivered, user_id);  // read implies it; kept in order
    if (!delivered) return delivered.status();
    if (settings->read_receipts) {
        auto covered = send_receipts(SentState::kRead, user_id);
        if (!covered) return covered.status();
        return ReadMarked{*covered, true};
    }
    // Receipts off: settled without telling, so that turning them on later
    // does not report what was read meanwhile.
    auto kept = history();
    if (!kept) return kept.status();
    size_t covered = 0;
    for (const auto& [peer, ids] : (*kept)->owed(SentState::kRead)) {
        if (peer != user_id) continue;
        DHTALK_TRY((*kept)->paid(peer, SentState::kRead, ids));
        covered += ids.size();
    }
    return ReadMarked{covered, false};
}

Status Client::mark_shown(const std::vector<ChatMessage>& messages) {
    auto lock = lock_messages();
    if (!lock) return lock.status();
    auto kept = history();
    if (!kept) return kept.status();
    return (*kept)->mark_shown(messages);
}

Status Client::open_message(const std::string& encoded, Received& out, std::vector<std::string>& acks) {
    auto m = decode_inbox_message(encoded);
    if (!m) return Status::corruption("the node handed over a malformed message: " + m.status().message());
    if (m->recipient != inbox_address(profile_.user_id, device_id()))
        return Status::corruption("the node handed over a message for another device");
    const std::string sender(address_user(m->sender));
    const std::string sender_device(address_device(m->sender));
    const bool from_own_device = sender == profile_.user_id;
    const std::string what = from_own_device ? "a copy from your device " + sender_device : "a message from " + sender;
    auto e2e = end_to_end();
    if (!e2e) return e2e.status();
    auto kept = history();
    if (!kept) return kept.status();
    acks.push_back(m->sender + "/" + m->id);
    if (!crypto::is_device_id(sender_device)) return Status::corruption(what + " names no device it came from");
    // Shown before; its acknowledgement was lost.
    if ((*kept)->received(sender, m->id) || (from_own_device && (*kept)->has_sent(m->id))) return Status::ok();
    auto same = [&](const auto& o) { return o.peer == sender && o.id == m->id; };
    if (std::any_of(out.messages.begin(), out.messages.end(), same) ||
        std::any_of(out.receipts.begin(), out.receipts.end(), same))
        return Status::ok();
    {
        // Only a device on its user's list speaks for them. A removed one is
        // done; one not listed yet (added a moment ago) waits.
        auto theirs = device_list(sender);
        if (theirs && !theirs->list.find(sender_device) && !theirs->list.is_removed(sender_device))
            theirs = device_list(sender, /*fresh*/ true);
        if (!theirs) {
            acks.pop_back();
            return Status::unavailable("cannot read the device list to check " + what + ": " + theirs.status().message());
        }
        if (theirs->list.is_removed(sender_device))
            return Status::denied(what + " comes from a device " + (from_own_device ? "you" : "they") + " removed: not shown");
        if (!theirs->list.find(sender_device)) {
            acks.pop_back();
            return Status::unavailable(what + " comes from a device not on " + (from_own_device ? "your" : "their") +
                                       " list yet: it waits");
        }
    }
    auto claimed = (*e2e)->claimed_identity(m->body);
    if (!claimed) return Status::corruption(what + " is malformed: " + claimed.status().message());
    if (claimed->has_value() && !(*e2e)->contact_key(m->sender)) {
        // The first message from this device: its identity key must be the
        // one the device published, or anyone could speak for the sender.
        if (!from_own_device && (*e2e)->known_devices(sender).empty()) {
            // First contact: the devices the sender lists now are theirs.
            if (auto pinned = pin_devices(sender); !pinned) {
                acks.pop_back();  // it waits: "not found" may be the network's miss
                return Status::unavailable("cannot check the keys of " + what + " yet: " + pinned.status().message());
            }
        }
        if (!from_own_device && !(*e2e)->contact_key(m->sender)) {
            acks.pop_back();  // a device added later waits, like a new key
            return Status::denied(what + " comes from a device of theirs you have not checked (" + sender_device +
                                  "); it waits until you check with them and accept it ('dhtalk trust " + sender + "')");
        }
        auto bundle = bundle_of(sender, sender_device);
        if (!bundle) {
            acks.pop_back();  // it waits: "not found" may be the network's miss
            return Status::unavailable("cannot check the key of " + what + " yet: " + bundle.status().message());
        }
        if (bundle->first.identity_key != **claimed)
            return Status::denied(what + " claims a key the sender never published: not shown");
    }
    // Kept in the history from inside the decryption, before the ratchet's
    // new state is saved: a crash between the two opens the message again.
    Status malformed = Status::ok();
    Status opened = (*e2e)->decrypt(m->sender, m->body, [&](const std::string& plain) -> Status {
        auto content = decode_content(plain);
        if (!content) {
            malformed = Status::corruption(what + " holds malformed content: " + content.status().message());
            return Status::ok();  // its message key is spent either way
        }
        if (content->kind == "file") {
            if (auto a = decode_attachment(content->attachment); !a) {
                malformed = Status::corruption(what + " holds a malformed file: " + a.status().message());
                return Status::ok();
            }
        }
        // Only this user's own devices send copies and privacy lists, and
        // they send nothing else.
        const bool own_kind = !content->to.empty() || content->kind == "privacy";
        if (from_own_device != own_kind || content->to == profile_.user_id) {
            malformed = Status::corruption(what + (from_own_device ? " is neither a copy nor a privacy list"
                                                                   : " claims to come from one of your devices"));
            return Status::ok();
        }
        if (content->kind == "privacy") {
            auto list = decode_privacy(content->attachment);
            if (!list) {
                malformed = Status::corruption(what + " holds a malformed privacy list: " + list.status().message());
                return Status::ok();
            }
            if (content->sent_ms > profile_.privacy_ms) {  // an older edit does not undo a newer one
                profile_.privacy = std::move(list).value();
                profile_.privacy_ms = content->sent_ms;
                DHTALK_TRY(profile_.save_privacy());
                DHTALK_TRY(profile_.save_state());
                privacy_changed_ = true;
            }
        } else if (from_own_device) {
            DHTALK_TRY((*kept)->append({ChatMessage{true, content->to, m->id, content->sent_ms, content->text, 0,
                                                        content->attachment}}));
        } else if (content->kind == "text" || content->kind == "file") {
            ChatMessage chat{false, sender, m->id, content->sent_ms, content->text, 0, content->attachment};
            DHTALK_TRY((*kept)->append({chat}));
            out.messages.push_back(std::move(chat));
        } else {
            Receipt r{sender, m->id, content->kind == "read" ? SentState::kRead : SentState::kDelivered,
                      std::move(content->refs)};
            DHTALK_TRY((*kept)->append_receipts({r}));
            out.receipts.push_back(std::move(r));
        }
        return Status::ok();
    });
    if (!opened) {
        if (opened.code() == Code::kPermissionDenied) {
            // A key change: the message waits in the inbox until the user accepts the key.
            acks.pop_back();
            return Status::denied(what + " comes under a new key; it waits until you check with them and accept "
                                  "it ('dhtalk trust " + sender + "')");
        }
        // Forged or damaged: acknowledged, so that it goes. Anything else (a
        // disk, memory) is this client's trouble: the message waits.
        if (opened.code() != Code::kCorruption) acks.pop_back();
        return Status(opened.code(), what + " cannot be opened: " + opened.message());
    }
    if (!malformed) return malformed;
    return Status::ok();
}

Result<Client::Received> Client::take_messages(const std::vector<std::string>& encoded,
                                               std::vector<std::string>* problems, size_t& acked) {
    auto kept = history();
    if (!kept) return kept.status();
    Received fresh;
    std::vector<std::string> acks;
    for (const auto& e : encoded)
        if (Status s = open_message(e, fresh, acks); !s && problems) problems->push_back(s.message());
    // A privacy list from another device: this node enforces it from now.
    if (privacy_changed_) {
        privacy_changed_ = false;
        if (Status given = give_privacy(); !given && problems)
            problems->push_back("your privacy list from another device is kept, but this node has not taken it yet: " +
                                given.message());
    }
    // Each was kept as it was opened, before it is acknowledged here.
    acked = acks.size();
    if (!acks.empty()) {
        auto reply = call("inbox.ack", {{"messages", acks}});
        if (!reply) return reply.status();
    }
    if (!fresh.messages.empty()) {
        auto sent = send_receipts(SentState::kDelivered);
        // Owed still, and sent by a later receive: the messages are kept.
        if (!sent && problems) problems->push_back("delivery receipts wait for the next try: " + sent.status().message());
    }
    return fresh;
}

Result<Client::Received> Client::receive_messages(std::vector<std::string>* problems) {
    auto lock = lock_messages();
    if (!lock) return lock.status();
    return receive_locked(problems);
}

Result<Client::Received> Client::receive_locked(std::vector<std::string>* problems) {
    auto e2e = end_to_end();
    if (!e2e) return e2e.status();
    auto kept = history();
    if (!kept) return kept.status();
    {
        // A removed device stops here; one added elsewhere is told of (and
        // given the privacy list) once.
        Status listed = list_this_device(/*fresh*/ true);
        // Unreadable for now: the inbox is fetched all the same (copies from
        // the user's other devices wait for the list).
        if (listed.code() == Code::kUnavailable) {
            if (problems) problems->push_back(listed.message());
        } else {
            DHTALK_TRY(listed);
            auto added = take_new_devices(problems);
            if (!added) return added.status();
            if (problems)
                for (const auto& id : *added) problems->push_back(new_device_notice(id));
        }
    }
    Received received;
    for (int round = 0; round < kMaxFetchRounds; ++round) {
        auto reply = call("inbox.fetch", {{"max", kFetchBatch}});
        if (!reply) return reply.status();
        auto encoded = reply->list("messages");
        if (!encoded) return encoded.status();
        size_t acked = 0;
        auto fresh = take_messages(*encoded, problems, acked);
        if (!fresh) return fresh.status();
        received.receipts.insert(received.receipts.end(), fresh->receipts.begin(), fresh->receipts.end());
        // Again while a fetch brought something and freed room; the node cuts
        // a reply at about 1 MiB, so a short one is no sign of the end.
        if (encoded->empty() || acked == 0) break;
    }
    // Receipts owed from an earlier run that could not send them.
    if (auto sent = send_receipts(SentState::kDelivered); !sent && problems)
        problems->push_back("delivery receipts wait for the next try: " + sent.status().message());
    if ((*e2e)->should_publish()) DHTALK_TRY(publish_keys_locked());  // replaces the one-time pre-keys senders used
    received.messages = (*kept)->unshown();
    std::stable_sort(received.messages.begin(), received.messages.end(), [](const ChatMessage& a, const ChatMessage& b) {
        return std::tie(a.sent_ms, a.id) < std::tie(b.sent_ms, b.id);
    });
    return received;
}

Status Client::follow_messages(const std::function<bool(const Received&)>& on_received,
                               const std::function<void(const std::string&)>& on_problem,
                               const std::function<void(const std::string&)>& on_following) {
    size_t failures = 0;
    auto fetch_waiting = [&]() -> Status {
        std::vector<std::string> problems;
        auto waiting = receive_messages(&problems);
        for (const auto& p : problems) on_problem(p);
        if (!waiting) return waiting.status();
        if (!on_received(*waiting)) return Status(Code::kAlreadyExists, "stopped");
        return Status::ok();
    };
    for (;;) {
        // Followed first, then fetched: nothing held in between is missed.
        auto followed = call("inbox.follow", {});
        if (!followed) return followed.status();
        Status caught_up = fetch_waiting();
        if (caught_up.code() == Code::kAlreadyExists) return Status::ok();
        if (!caught_up) return caught_up;
        on_following(node());
        // Pushes come on the session that followed; a call that fails over
        // to another node (an acknowledgement, a fetch) must follow again there.
        const ClientConnection* followed_on = connection_.get();
        auto next_fetch = steady_clock::now() + kFollowFetchInterval;
        for (;;) {
            if (!connection_ || connection_.get() != followed_on) break;
            auto frame = connection_->receive(seconds(20));
            if (!frame) {
                if (frame.status().code() == Code::kTimeout) {
                    // Quiet: fetch now and then in case a push was lost, and
                    // show the node the session is in use (it closes idle
                    // ones); a session in use wants no redirect.
                    Status s = Status::ok();
                    if (steady_clock::now() >= next_fetch) {
                        s = fetch_waiting();
                        next_fetch = steady_clock::now() + kFollowFetchInterval;
                    } else if (auto sent = connection_->send("hello", {{"redirects", kMaxRedirects}}); !sent) {
                        s = sent.status();
                    }
                    if (s.code() == Code::kAlreadyExists) return Status::ok();
                    if (s) continue;
                    frame = s;
                }
                if (!node_failed(frame.status()) || ++failures > options_.nodes.size()) return frame.status();
                demote_current_node(frame.status());
                break;  // follow again, through the next node
            }
            if (frame->kind != "message") continue;
            failures = 0;
            auto encoded = frame->text("message", kMaxEncodedMessageBytes);
            if (!encoded) {
                on_problem("the node pushed a malformed message: " + encoded.status().message());
                continue;
            }
            std::vector<std::string> problems;
            size_t acked = 0;
            Result<Received> fresh = Status::internal("unset");
            {
                // Let go before the callback, which marks them shown under it.
                auto lock = lock_messages();
                if (!lock) return lock.status();
                fresh = take_messages({*encoded}, &problems, acked);
            }
            for (const auto& p : problems) on_problem(p);
            if (!fresh) return fresh.status();
            if ((!fresh->messages.empty() || !fresh->receipts.empty()) && !on_received(*fresh)) return Status::ok();
        }
    }
}

Result<std::vector<ChatMessage>> Client::conversation(const std::string& user_id) {
    auto kept = history();
    if (!kept) return kept.status();
    return (*kept)->conversation(user_id);
}

Result<std::vector<std::pair<ChatMessage, SentState>>> Client::sent_messages(const std::string& user_id,
                                                                              std::vector<std::string>* problems) {
    auto lock = lock_messages();
    if (!lock) return lock.status();
    auto received = receive_locked(problems);  // the receipts waiting; new messages stay unshown
    if (!received) return received.status();
    auto kept = history();
    if (!kept) return kept.status();
    return (*kept)->sent(user_id, now_ms());
}

}  // namespace dhtalk::client
