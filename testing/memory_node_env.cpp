#include "testing/memory_node_env.h"

#include "node/front/verification_sender.h"
#include "storage/shared_store.h"

namespace dhtalk::test {

MemoryNodeEnv::MemoryNodeEnv(const Clock& clock) : env_(system_node_env(clock)) {
    env_.open_store = [this](const std::filesystem::path& dir) -> Result<std::unique_ptr<Store>> {
        std::lock_guard lock(mutex_);
        auto& store = stores_[dir];
        if (!store) store = std::make_shared<MemoryStore>();
        return std::unique_ptr<Store>(std::make_unique<SharedStore>(store));
    };
    env_.make_sms_sender = [this](const NodeConfig&) -> std::unique_ptr<VerificationSender> {
        return std::make_unique<CallbackSender>([this](const std::string& e164, const std::string& code) {
            std::lock_guard lock(mutex_);
            last_codes_[e164] = code;
        });
    };
}

MemoryStore* MemoryNodeEnv::store(const std::filesystem::path& dir) {
    std::lock_guard lock(mutex_);
    auto it = stores_.find(dir / "db");
    return it == stores_.end() ? nullptr : it->second.get();
}

std::string MemoryNodeEnv::last_code(const std::string& e164) {
    std::lock_guard lock(mutex_);
    auto it = last_codes_.find(e164);
    return it == last_codes_.end() ? std::string() : it->second;
}

}  // namespace dhtalk::test
