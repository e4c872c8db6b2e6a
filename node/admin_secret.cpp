#include "node/admin_secret.h"

#include "common/files.h"
#include "crypto/aead.h"
#include "crypto/signing.h"

namespace dhtalk {

Result<std::string> read_admin_secret(const std::filesystem::path& data_dir) {
    const auto path = data_dir / kAdminSecretFile;
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) return Status::not_found("no admin secret in " + data_dir.string());
    auto text = read_file(path, 256);
    if (!text) return text.status();
    std::string secret = std::move(text).value();
    while (!secret.empty() && (secret.back() == '\n' || secret.back() == ' ')) secret.pop_back();
    if (secret.size() < 32) return Status::corruption(path.string() + " is too short to be an admin secret");
    return secret;
}

Result<std::string> load_or_create_admin_secret(const std::filesystem::path& data_dir) {
    auto existing = read_admin_secret(data_dir);
    if (existing || existing.status().code() != Code::kNotFound) return existing;
    const auto key = crypto::random_key();
    const std::string secret = crypto::to_hex({reinterpret_cast<const char*>(key.data()), key.size()});
    DHTALK_TRY(write_file_atomic(data_dir / kAdminSecretFile, secret + "\n", 0600));
    return secret;
}

}  // namespace dhtalk
