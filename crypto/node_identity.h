#pragma once
// NodeIdentity: a node's long-lived key pair and self-signed certificate,
// kept in <data-dir>/identity/ (node.key with owner-only permissions, and
// node.crt), and its fast key (fast.key, Ed25519, owner-only), which the
// node signs with per event (fast_key.h). Created on a node's first start
// and reused on every later one, so the node id (the certificate's
// public-key id) never changes. A damaged, mismatched or over-exposed
// identity is refused, never silently replaced. Values of this type are
// immutable after loading and safe to share.

#include <filesystem>
#include <memory>
#include <string>

#include <opendht/crypto.h>

#include "common/status.h"

namespace dhtalk::crypto {

struct NodeIdentity {
    std::shared_ptr<dht::crypto::PrivateKey> key;
    std::shared_ptr<dht::crypto::Certificate> certificate;
    // Ed25519; the roster and the front end's TLS certificate certify it.
    std::shared_ptr<dht::crypto::PrivateKey> fast_key;
    std::string fast_public;  // its raw public key

    // 20-byte public-key id; also the node's OpenDHT node id.
    dht::InfoHash node_id() const { return certificate->getId(); }
    std::string node_id_hex() const { return node_id().toString(); }
};

// RSA: OpenDHT 2.4.12 signs only with RSA keys.
inline constexpr unsigned kNodeKeyBits = 3072;

// Loads the identity in `dir`; creates it there (and the directory) when
// neither file exists yet. Returns kCorruption for unreadable or mismatched
// files, kInvalidArgument for a key file readable by others.
Result<NodeIdentity> load_or_create_identity(const std::filesystem::path& dir,
                                             unsigned key_bits = kNodeKeyBits);

}  // namespace dhtalk::crypto
