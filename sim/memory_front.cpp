#include "sim/memory_front.h"

namespace dhtalk {

Result<uint64_t> MemoryFront::open(const std::string& address,
                                   const std::shared_ptr<dht::crypto::Certificate>& certificate) {
    if (stopped_) return Status::unavailable("the node is stopping");
    auto s = std::make_shared<Session>();
    s->info.id = next_session_++;
    s->info.address = address;
    if (certificate) {
        auto user = handler_.authenticate(*certificate);
        if (!user) {
            stats_.failed_handshakes++;
            return user.status();
        }
        s->info.user = std::move(user).value();
        stats_.logged_in++;
    }
    sessions_[s->info.id] = s;
    stats_.accepted++;
    stats_.sessions++;
    handler_.opened(s->info);
    return s->info.id;
}

void MemoryFront::close(uint64_t session) {
    auto it = sessions_.find(session);
    if (it == sessions_.end()) return;
    auto s = it->second;
    sessions_.erase(it);
    stats_.sessions--;
    if (s->info.user) stats_.logged_in--;
    handler_.closed(s->info);
}

uint64_t MemoryFront::request(uint64_t session, const std::string& method, FrameParams params) {
    auto it = sessions_.find(session);
    if (it == sessions_.end() || stopped_) return 0;
    auto s = it->second;
    ClientFrame f;
    f.id = s->next_request++;
    f.kind = method;
    f.params = std::move(params);
    stats_.requests++;
    // The session is held by the reply, which may come after it closed.
    std::weak_ptr<Session> weak = s;
    handler_.handle(s->info, f, [weak, id = f.id](ClientFrame reply) {
        if (auto live = weak.lock()) live->replies[id] = std::move(reply);
    });
    return f.id;
}

std::optional<ClientFrame> MemoryFront::reply(uint64_t session, uint64_t id) const {
    auto it = sessions_.find(session);
    if (it == sessions_.end()) return std::nullopt;
    auto r = it->second->replies.find(id);
    if (r == it->second->replies.end()) return std::nullopt;
    return r->second;
}

const std::vector<ClientFrame>& MemoryFront::pushed(uint64_t session) const {
    static const std::vector<ClientFrame> none;
    auto it = sessions_.find(session);
    return it == sessions_.end() ? none : it->second->pushed;
}

void MemoryFront::push(uint64_t session, ClientFrame frame) {
    auto it = sessions_.find(session);
    if (it != sessions_.end()) it->second->pushed.push_back(std::move(frame));
}

void MemoryFront::stop() {
    if (stopped_) return;
    stopped_ = true;
    while (!sessions_.empty()) close(sessions_.begin()->first);
}

}  // namespace dhtalk
