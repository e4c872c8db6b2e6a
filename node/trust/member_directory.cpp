#include "node/trust/member_directory.h"

namespace dhtalk {

void MemberDirectory::set(Members members) {
    auto next = std::make_shared<const Members>(std::move(members));
    std::lock_guard lock(mutex_);
    members_ = std::move(next);
}

std::shared_ptr<const MemberDirectory::Members> MemberDirectory::snapshot() const {
    std::lock_guard lock(mutex_);
    return members_;
}

std::string MemberDirectory::fast_key(const std::string& node_id) const {
    auto members = snapshot();
    auto it = members->find(node_id);
    return it == members->end() ? std::string() : it->second;
}

}  // namespace dhtalk
