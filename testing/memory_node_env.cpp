#include "testing/memory_node_env.h"

#include "node/front/verification_sender.h"

namespace dhtalk::test {
namespace {

// A node's handle on a store that outlives it.
class SharedStore final : public Store {
public:
    explicit SharedStore(std::shared_ptr<Store> store) : store_(std::move(store)) {}
    Result<std::string> get(std::string_view key) const override { return store_->get(key); }
    Status put(std::string_view key, std::string_view value) override { return store_->put(key, value); }
    Status erase(std::string_view key) override { return store_->erase(key); }
    Status write(const WriteBatch& batch) override { return store_->write(batch); }
    Status scan(std::string_view prefix, const Visitor& visit) const override { return store_->scan(prefix, visit); }
    Status sync() override { return store_->sync(); }

private:
    std::shared_ptr<Store> store_;
};

class RecordingSender final : public VerificationSender {
public:
    explicit RecordingSender(std::function<void(const std::string&, const std::string&)> record)
        : record_(std::move(record)) {}
    Status send(const std::string& e164, const std::string& code) override {
        record_(e164, code);
        return Status::ok();
    }

private:
    std::function<void(const std::string&, const std::string&)> record_;
};

}  // namespace

MemoryNodeEnv::MemoryNodeEnv(const Clock& clock) : env_(system_node_env(clock)) {
    env_.open_store = [this](const std::filesystem::path& dir) -> Result<std::unique_ptr<Store>> {
        std::lock_guard lock(mutex_);
        auto& store = stores_[dir];
        if (!store) store = std::make_shared<MemoryStore>();
        return std::unique_ptr<Store>(std::make_unique<SharedStore>(store));
    };
    env_.make_sms_sender = [this](const NodeConfig&) -> std::unique_ptr<VerificationSender> {
        return std::make_unique<RecordingSender>([this](const std::string& e164, const std::string& code) {
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
