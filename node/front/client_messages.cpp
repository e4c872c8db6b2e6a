// The client requests about messages (docs/protocol.md): message.send to
// one device of a user, inbox.fetch and inbox.ack, each for the inbox of
// the logged-in device only (docs/devices.md). The inbox
// service (inbox_service.h) does the work on its worker; replies go back
// from there.
#include <algorithm>
#include <cstdint>

#include "crypto/user_certificate.h"
#include "crypto/user_id.h"
#include "node/front/client_service.h"

namespace dhtalk {
namespace {

constexpr uint64_t kDefaultFetch = 64;
// What one inbox.fetch reply carries at most, leaving room for its frame.
constexpr size_t kFetchReplyBytes = kMaxNodeFrameBytes - 64 * 1024;

}  // namespace

std::string ClientService::inbox_of(const ClientSession& s) { return inbox_address(s.user->user_id, s.user->device_id); }

void ClientService::send_message(const ClientSession& s, const ClientFrame& f, ClientReply reply) {
    auto fail = [&](const Status& st) { reply(ClientFrame::error_reply(f.id, st)); };
    if (Status st = need_login(s); !st) return fail(st);
    auto to = f.text("to", kMaxInboxIdBytes);
    auto device = f.text("device", crypto::kDeviceIdChars);
    auto id = f.text("id", kMaxInboxIdBytes);
    auto body = f.text("body", kMaxMessageBytes);
    auto sent_ms = f.number("sent_ms");
    if (!to) return fail(to.status());
    if (!device) return fail(device.status());
    if (!id) return fail(id.status());
    if (!body) return fail(body.status());
    if (!sent_ms) return fail(sent_ms.status());
    if (!crypto::is_user_id(config_.user_id_scheme, *to)) return fail(Status::invalid("'" + *to + "' is not a user id"));
    if (!crypto::is_device_id(*device)) return fail(Status::invalid("'" + *device + "' is not a device id"));
    const std::string recipient = inbox_address(*to, *device);
    if (recipient == inbox_of(s)) return fail(Status::invalid("a device cannot send a message to itself"));
    if (!message_rate_.allow(s.user->user_id))
        return fail(Status::exhausted("you are sending messages too fast: at most " +
                                      std::to_string(static_cast<unsigned>(config_.messages_per_second)) +
                                      " a second through this node; try again shortly"));
    InboxMessage m;
    m.recipient = recipient;
    m.sender = inbox_of(s);
    m.id = std::move(id).value();
    m.sent_ms = static_cast<int64_t>(std::min<uint64_t>(*sent_ms, INT64_MAX));
    m.body = std::move(body).value();
    m.expires_ms = inbox_.expiry_from_now();
    const std::string message_id = m.id;
    const auto expires_ms = static_cast<uint64_t>(m.expires_ms);
    inbox_.send(std::move(m), [reply, message_id, expires_ms](const Status& st) {
        reply(st ? ClientFrame::reply_to(0, {{"id", message_id}, {"stored", true}, {"expires_ms", expires_ms}})
                 : ClientFrame::error_reply(0, st));
    });
}

void ClientService::fetch_inbox(const ClientSession& s, const ClientFrame& f, ClientReply reply) {
    auto fail = [&](const Status& st) { reply(ClientFrame::error_reply(f.id, st)); };
    if (Status st = need_login(s); !st) return fail(st);
    uint64_t max = kDefaultFetch;
    if (f.has("max")) {
        auto m = f.number("max");
        if (!m) return fail(m.status());
        max = std::clamp<uint64_t>(*m, 1, kMaxInboxBatch);
    }
    const std::string user = inbox_of(s);
    inbox_.fetch(user, max, [this, user, reply](Result<std::vector<InboxMessage>> found) {
        if (!found) return reply(ClientFrame::error_reply(0, found.status()));
        // A refused sender's messages go without a trace: deleted at the
        // holders, as if the recipient had them (the sender cannot tell).
        if (auto refused = refused_by_privacy(user, *found); !refused.empty()) {
            std::vector<MessageRef> drop;
            for (const auto& m : refused) drop.push_back({m.sender, m.id});
            inbox_.acknowledge(user, std::move(drop), [](const Status&) {});  // else dropped at the next fetch
        }
        // As many as fit in one frame; the client asks again for the rest.
        std::vector<std::string> encoded;
        size_t bytes = 0;
        for (const auto& m : *found) {
            bytes += encoded_size_bound(m) + 8;
            if (bytes > kFetchReplyBytes) break;
            encoded.push_back(encode(m));
        }
        reply(ClientFrame::reply_to(0, {{"messages", std::move(encoded)}}));
    });
}

void ClientService::acknowledge_inbox(const ClientSession& s, const ClientFrame& f, ClientReply reply) {
    auto fail = [&](const Status& st) { reply(ClientFrame::error_reply(f.id, st)); };
    if (Status st = need_login(s); !st) return fail(st);
    auto refs = f.list("messages");
    if (!refs) return fail(refs.status());
    std::vector<MessageRef> acks;
    for (const auto& r : *refs) {
        const auto slash = r.find('/');
        if (slash == std::string::npos) return fail(Status::invalid("a message is named SENDER/ID, not '" + r + "'"));
        acks.push_back({r.substr(0, slash), r.substr(slash + 1)});
    }
    inbox_.acknowledge(inbox_of(s), std::move(acks), [reply](const Status& st) {
        reply(st ? ClientFrame::reply_to(0) : ClientFrame::error_reply(0, st));
    });
}

void ClientService::follow_inbox(const ClientSession& s, const ClientFrame& f, ClientReply reply) {
    if (Status st = need_login(s); !st) return reply(ClientFrame::error_reply(f.id, st));
    if (!push_) return reply(ClientFrame::error_reply(f.id, Status::unavailable("this node pushes nothing yet: fetch instead")));
    bool first;
    {
        std::lock_guard lock(sessions_mutex_);
        first = inbox_followers_[inbox_of(s)].insert(s.id).second;
    }
    if (!first) return reply(ClientFrame::reply_to(0));
    inbox_.follow(inbox_of(s), [reply](const Status&) { reply(ClientFrame::reply_to(0)); });
}

std::vector<InboxMessage> ClientService::refused_by_privacy(const std::string& recipient,
                                                            std::vector<InboxMessage>& messages) {
    std::vector<InboxMessage> refused;
    std::lock_guard lock(sessions_mutex_);
    // The list is the user's, for every device; it names senders by user.
    auto list = privacy_of_.find(std::string(address_user(recipient)));
    if (list == privacy_of_.end()) return refused;
    // The user's own devices (copies, the list itself) always get through.
    const std::string_view user = address_user(recipient);
    auto kept = std::stable_partition(messages.begin(), messages.end(), [&](const InboxMessage& m) {
        return address_user(m.sender) == user || list->second.list.admits(std::string(address_user(m.sender)));
    });
    refused.assign(std::make_move_iterator(kept), std::make_move_iterator(messages.end()));
    messages.erase(kept, messages.end());
    return refused;
}

void ClientService::deliver_messages(const std::string& recipient, std::vector<InboxMessage> messages) {
    if (!push_) return;
    refused_by_privacy(recipient, messages);  // the next fetch deletes them
    std::vector<uint64_t> to;
    {
        std::lock_guard lock(sessions_mutex_);
        auto it = inbox_followers_.find(recipient);
        if (it == inbox_followers_.end()) return;
        to.assign(it->second.begin(), it->second.end());
    }
    for (const auto& m : messages) {
        const std::string encoded = encode(m);
        for (uint64_t session : to) {
            ClientFrame f;
            f.kind = "message";
            f.params = {{"message", encoded}};
            push_(session, std::move(f));
        }
    }
}

}  // namespace dhtalk
