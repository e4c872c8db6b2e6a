#include "crypto/node_identity.h"

#include <sys/stat.h>

#include "common/files.h"
#include "common/log.h"

namespace dhtalk::crypto {
namespace {

constexpr size_t kMaxIdentityFileBytes = 64 * 1024;
constexpr const char* kKeyFile = "node.key";
constexpr const char* kCertFile = "node.crt";

std::string restore_hint(const std::filesystem::path& dir) {
    return "; restore the identity from a backup, or move " + dir.string() +
           " aside to start as a new node";
}

Result<NodeIdentity> create_identity(const std::filesystem::path& dir, unsigned key_bits) {
    DHTALK_TRY(ensure_private_dir(dir));
    NodeIdentity id;
    try {
        auto generated = dht::crypto::generateIdentity("dhtalk node", {}, key_bits);
        id.key = generated.first;
        id.certificate = generated.second;
    } catch (const std::exception& e) {
        return Status::internal(std::string("cannot generate the node key: ") + e.what());
    }
    const auto key_bytes = id.key->serialize();
    DHTALK_TRY(write_file_atomic(dir / kKeyFile, std::string(key_bytes.begin(), key_bytes.end()), 0600));
    DHTALK_TRY(write_file_atomic(dir / kCertFile, id.certificate->toString(false), 0644));
    DHTALK_LOG(kInfo, "identity", "created node identity " << id.node_id_hex() << " in " << dir.string());
    return id;
}

Result<NodeIdentity> load_identity(const std::filesystem::path& dir) {
    const auto key_path = dir / kKeyFile;
    struct stat st {};
    if (::stat(key_path.c_str(), &st) == 0 && (st.st_mode & 077) != 0)
        return Status::invalid(key_path.string() + " is accessible by other users; run: chmod 600 " +
                               key_path.string());
    auto key_text = read_file(key_path, kMaxIdentityFileBytes);
    if (!key_text) return Status::corruption(key_text.status().message() + restore_hint(dir));
    auto cert_text = read_file(dir / kCertFile, kMaxIdentityFileBytes);
    if (!cert_text) return Status::corruption(cert_text.status().message() + restore_hint(dir));

    NodeIdentity id;
    try {
        id.key = std::make_shared<dht::crypto::PrivateKey>(std::string_view(*key_text));
    } catch (const std::exception& e) {
        return Status::corruption("cannot read the node key " + key_path.string() + ": " + e.what() +
                                  restore_hint(dir));
    }
    try {
        id.certificate = std::make_shared<dht::crypto::Certificate>(std::string_view(*cert_text));
    } catch (const std::exception& e) {
        return Status::corruption("cannot read the node certificate " + (dir / kCertFile).string() + ": " +
                                  e.what() + restore_hint(dir));
    }
    if (!id.certificate->cert)
        return Status::corruption("the node certificate " + (dir / kCertFile).string() + " is empty" +
                                  restore_hint(dir));
    if (id.key->getPublicKey().getLongId() != id.certificate->getLongId())
        return Status::corruption("the node key and certificate in " + dir.string() + " do not belong together" +
                                  restore_hint(dir));
    return id;
}

}  // namespace

Result<NodeIdentity> load_or_create_identity(const std::filesystem::path& dir, unsigned key_bits) {
    std::error_code ec;
    const bool has_key = std::filesystem::exists(dir / kKeyFile, ec);
    const bool has_cert = std::filesystem::exists(dir / kCertFile, ec);
    if (!has_key && !has_cert) return create_identity(dir, key_bits);
    if (has_key != has_cert)
        return Status::corruption(std::string("the node identity in ") + dir.string() + " is incomplete: " +
                                  (has_key ? kCertFile : kKeyFile) + " is missing" + restore_hint(dir));
    return load_identity(dir);
}

}  // namespace dhtalk::crypto
