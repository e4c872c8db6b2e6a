#pragma once
// Attachment: a file sent with a message (docs/media.md). The client
// encrypts the file under a fresh key, cuts it into chunks of 64 KiB, and
// uploads each as AES-256-GCM ciphertext named by its SHA-256; the list of
// chunk names is itself encrypted and uploaded as manifest chunks. What the
// recipient needs to fetch, check and decrypt it all is this descriptor,
// which travels inside the end-to-end encrypted message: nodes hold
// ciphertext only, and a chunk can be fetched only by whoever knows its name.
//   [format 1, name, media type, size, key, sha256 of the file, [manifest chunk ids]]
// The decoder treats its input as hostile (it comes from another user).

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "net/client_protocol.h"

namespace dhtalk::client {

inline constexpr size_t kFileChunkBytes = 64 * 1024;       // of the file, per chunk
inline constexpr size_t kMaxManifestChunks = 64;           // files up to 8 GiB at 2,048 chunks each
inline constexpr size_t kMaxAttachmentNameBytes = 255;
inline constexpr uint64_t kDefaultMaxFileBytes = 100ull << 20;

struct Attachment {
    std::string name;  // the file's name (its last path component), as the sender had it
    std::string type;  // media type
    uint64_t size = 0;
    std::string key;     // 32 bytes: AES-256-GCM
    std::string sha256;  // 32 bytes: of the whole file
    std::vector<std::string> manifest;  // chunk ids (hex) of the encrypted list of chunk ids
};

std::string encode_attachment(const Attachment& a);
// kCorruption for anything but one well-formed descriptor.
Result<Attachment> decode_attachment(std::string_view bytes);

// Requests of one method to the node, several in flight at once (with
// login and failover): the client's call_batch(). Each reply carries its
// own status.
using MediaCall =
    std::function<Result<std::vector<ClientFrame>>(const std::string& method, std::vector<FrameParams> params)>;
// Bytes done and in all, after each chunk.
using Progress = std::function<void(uint64_t done, uint64_t total)>;

// Encrypts and uploads `path` (at most `max_bytes`); the descriptor once
// every chunk is held by the network. With a `resume_dir`, an upload that
// stops (a dropped connection, a node gone) goes on where it stopped when
// the same file is sent again: the file's key and how far it got are kept
// there (owner-only: the key opens the file) until it is done.
Result<Attachment> upload_file(const MediaCall& call, const std::filesystem::path& path, const std::string& type,
                               uint64_t max_bytes, const Progress& progress,
                               const std::filesystem::path& resume_dir = {});
// Downloads, checks and decrypts `a` into `out` (which must not exist; it
// appears only once the whole file checked out), through `part` (default
// `out`.part): a download that stops goes on from the whole chunks that
// file holds.
Status download_file(const MediaCall& call, const Attachment& a, const std::filesystem::path& out,
                     const Progress& progress, const std::filesystem::path& part = {});
// `name` as a safe file name: its last component, no control characters,
// not "." or ".."; "attachment" if nothing is left.
std::string safe_file_name(std::string_view name);

}  // namespace dhtalk::client
