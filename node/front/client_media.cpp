// The client requests about media chunks (docs/media.md): media.put and
// media.get, for logged-in users. The media service (media_service.h) does
// the work on its workers; replies go back from there.
#include "node/front/client_service.h"

namespace dhtalk {

void ClientService::media_request(const ClientSession& s, const ClientFrame& f, ClientReply reply) {
    auto fail = [&](const Status& st) { reply(ClientFrame::error_reply(f.id, st)); };
    if (Status st = need_login(s); !st) return fail(st);
    if (!media_) return fail(Status::unavailable("this node serves no media"));
    auto id = f.text("id", 64);
    if (!id) return fail(id.status());
    if (f.kind == "media.get") {
        return media_->get(*id, [reply](Result<std::string> bytes) {
            if (!bytes) return reply(ClientFrame::error_reply(0, bytes.status()));
            reply(ClientFrame::reply_to(0, {{"data", std::move(bytes).value()}}));
        });
    }
    if (f.kind != "media.put") return fail(Status::invalid("unknown request '" + f.kind + "'"));
    // The file a chunk belongs to is end-to-end encrypted: its size is the
    // client's word, so the quota on each holder is the bound that holds.
    auto file_bytes = f.number("file_bytes");
    if (!file_bytes) return fail(file_bytes.status());
    if (*file_bytes > config_.max_file_bytes)
        return fail(Status::invalid("files are at most " + std::to_string(config_.max_file_bytes >> 20) +
                                    " MiB on this node"));
    auto data = f.text("data", kMaxChunkBytes);
    if (!data) return fail(data.status());
    media_->put(*id, s.user->user_id, std::move(data).value(), [reply](const Status& st) {
        if (!st) return reply(ClientFrame::error_reply(0, st));
        reply(ClientFrame::reply_to(0, {{"stored", true}}));
    });
}

}  // namespace dhtalk
