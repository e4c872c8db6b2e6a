#pragma once
// Small file-system helpers with the failure modes spelled out: bounded reads
// (a file on disk is input like any other), atomic replacement (a crash leaves
// the old or the new file, never half of one), and an exclusive lock on a data
// directory. All functions are thread-safe; none throws.

#include <cstdint>
#include <filesystem>
#include <string>

#include "common/status.h"

namespace dhtalk {

// Reads a whole file, refusing one larger than max_bytes.
Result<std::string> read_file(const std::filesystem::path& path, size_t max_bytes);

// Writes `contents` to a temporary file beside `path`, syncs it, and renames it
// over `path`. `mode` is the permission of the new file (e.g. 0600 for keys).
Status write_file_atomic(const std::filesystem::path& path, const std::string& contents,
                         unsigned mode = 0644);

// Creates the directory (and parents) if missing, with owner-only access.
Status ensure_private_dir(const std::filesystem::path& dir);

// An exclusive advisory lock (flock) on a file, held for the object's life.
// A second process asking for the same lock is refused at once, not blocked.
class FileLock {
public:
    static Result<FileLock> acquire(const std::filesystem::path& path);
    // The same, waiting for another holder to let go.
    static Result<FileLock> wait(const std::filesystem::path& path);
    FileLock(FileLock&& other) noexcept;
    FileLock& operator=(FileLock&& other) noexcept;
    FileLock(const FileLock&) = delete;
    FileLock& operator=(const FileLock&) = delete;
    ~FileLock();

private:
    explicit FileLock(int fd) : fd_(fd) {}
    int fd_ = -1;
};

}  // namespace dhtalk
