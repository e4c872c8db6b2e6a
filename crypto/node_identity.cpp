#include "crypto/node_identity.h"

#include <sys/stat.h>

#include "common/files.h"
#include "common/log.h"
#include "crypto/fast_key.h"

namespace dhtalk::crypto {
namespace {

constexpr size_t kMaxIdentityFileBytes = 64 * 1024;
constexpr const char* kKeyFile = "node.key";
constexpr const char* kCertFile = "node.crt";
constexpr const char* kFastKeyFile = "fast.key";

std::string restore_hint(const std::filesystem::path& dir) {
    return "; restore the identity from a backup, or move " + dir.string() +
           " aside to start as a new node";
}

Status refuse_exposed(const std::filesystem::path& key_path) {
    struct stat st {};
    if (::stat(key_path.c_str(), &st) == 0 && (st.st_mode & 077) != 0)
        return Status::invalid(key_path.string() + " is accessible by other users; run: chmod 600 " +
                               key_path.string());
    return Status::ok();
}

// The fast key in `dir`; made there when absent (an identity made before
// fast keys existed gets one on its next start).
Status load_or_create_fast_key(const std::filesystem::path& dir, NodeIdentity& id) {
    const auto path = dir / kFastKeyFile;
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
        auto key = generate_fast_key();
        if (!key) return key.status();
        const auto bytes = (*key)->serialize();
        DHTALK_TRY(write_file_atomic(path, std::string(bytes.begin(), bytes.end()), 0600));
        id.fast_key = std::move(key).value();
    } else {
        DHTALK_TRY(refuse_exposed(path));
        auto text = read_file(path, kMaxIdentityFileBytes);
        if (!text) return Status::corruption(text.status().message() + restore_hint(dir));
        try {
            id.fast_key = std::make_shared<dht::crypto::PrivateKey>(std::string_view(*text));
        } catch (const std::exception& e) {
            return Status::corruption("cannot read the fast key " + path.string() + ": " + e.what() + restore_hint(dir));
        }
    }
    auto pub = fast_public_key(*id.fast_key);
    if (!pub) return Status::corruption(path.string() + " is not an Ed25519 key" + restore_hint(dir));
    id.fast_public = std::move(pub).value();
    return Status::ok();
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
    DHTALK_TRY(load_or_create_fast_key(dir, id));
    DHTALK_LOG(kInfo, "identity", "created node identity " << id.node_id_hex() << " in " << dir.string());
    return id;
}

Result<NodeIdentity> load_identity(const std::filesystem::path& dir) {
    const auto key_path = dir / kKeyFile;
    DHTALK_TRY(refuse_exposed(key_path));
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
    DHTALK_TRY(load_or_create_fast_key(dir, id));
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
