#include "node/trust/member_directory.h"

namespace dhtalk {

void MemberDirectory::set(Certificates members) {
    auto next = std::make_shared<const Certificates>(std::move(members));
    std::lock_guard lock(mutex_);
    members_ = std::move(next);
}

std::shared_ptr<const dht::crypto::Certificate> MemberDirectory::find(const std::string& node_id) const {
    std::shared_ptr<const Certificates> members;
    {
        std::lock_guard lock(mutex_);
        members = members_;
    }
    auto it = members->find(node_id);
    return it == members->end() ? nullptr : it->second;
}

}  // namespace dhtalk
