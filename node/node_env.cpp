#include "node/node_env.h"

#include "node/config.h"
#include "node/front/verification_sender.h"
#include "storage/rocks_store.h"

namespace dhtalk {

NodeEnv system_node_env(const Clock& clock) {
    NodeEnv env;
    env.clock = &clock;
    env.open_store = [](const std::filesystem::path& dir) -> Result<std::unique_ptr<Store>> {
        auto store = RocksStore::open(dir);
        if (!store) return store.status();
        return std::unique_ptr<Store>(std::move(store).value());
    };
    env.make_sms_sender = [&clock](const NodeConfig& config) -> std::unique_ptr<VerificationSender> {
        if (config.sms_provider == "vonage") return std::make_unique<VonageSender>(config.vonage);
        return std::make_unique<FileSender>(config.sms_file, clock);
    };
    return env;
}

}  // namespace dhtalk
