#include "common/files.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace dhtalk {
namespace {

std::string errno_text(const std::string& what, const std::filesystem::path& path) {
    return what + " " + path.string() + ": " + std::strerror(errno);
}

// Closes a descriptor when it leaves scope.
struct FdGuard {
    int fd;
    ~FdGuard() {
        if (fd >= 0) ::close(fd);
    }
};

}  // namespace

Result<std::string> read_file(const std::filesystem::path& path, size_t max_bytes) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Status::io_error(errno_text("cannot open", path));
    FdGuard guard{fd};
    struct stat st {};
    if (::fstat(fd, &st) != 0) return Status::io_error(errno_text("cannot stat", path));
    if (!S_ISREG(st.st_mode)) return Status::invalid(path.string() + " is not a regular file");
    if (static_cast<uint64_t>(st.st_size) > max_bytes)
        return Status::invalid(path.string() + " is " + std::to_string(st.st_size) +
                               " bytes, more than the " + std::to_string(max_bytes) + " allowed");
    std::string out;
    out.resize(static_cast<size_t>(st.st_size));
    size_t done = 0;
    while (done < out.size()) {
        const ssize_t n = ::read(fd, out.data() + done, out.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return Status::io_error(errno_text("cannot read", path));
        if (n == 0) break;  // the file shrank while we read it
        done += static_cast<size_t>(n);
    }
    out.resize(done);
    return out;
}

Status write_file_atomic(const std::filesystem::path& path, const std::string& contents, unsigned mode) {
    std::filesystem::path tmp = path;
    tmp += ".tmp";
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) return Status::io_error(errno_text("cannot create", tmp));
    {
        FdGuard guard{fd};
        if (::fchmod(fd, mode) != 0) return Status::io_error(errno_text("cannot chmod", tmp));
        size_t done = 0;
        while (done < contents.size()) {
            const ssize_t n = ::write(fd, contents.data() + done, contents.size() - done);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) return Status::io_error(errno_text("cannot write", tmp));
            done += static_cast<size_t>(n);
        }
        if (::fsync(fd) != 0) return Status::io_error(errno_text("cannot sync", tmp));
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) return Status::io_error(errno_text("cannot rename to", path));
    return Status::ok();
}

Status ensure_private_dir(const std::filesystem::path& dir) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return Status::io_error("cannot create directory " + dir.string() + ": " + ec.message());
    if (!std::filesystem::is_directory(dir, ec))
        return Status::invalid(dir.string() + " exists and is not a directory");
    std::filesystem::permissions(dir, std::filesystem::perms::owner_all, ec);
    if (ec) return Status::io_error("cannot set permissions on " + dir.string() + ": " + ec.message());
    return Status::ok();
}

Result<FileLock> FileLock::acquire(const std::filesystem::path& path) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return Status::io_error(errno_text("cannot open lock file", path));
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        const int err = errno;
        ::close(fd);
        if (err == EWOULDBLOCK)
            return Status::busy(path.parent_path().string() + " is in use by another dhtalk-node");
        errno = err;
        return Status::io_error(errno_text("cannot lock", path));
    }
    return FileLock(fd);
}

Result<FileLock> FileLock::wait(const std::filesystem::path& path) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return Status::io_error(errno_text("cannot open lock file", path));
    int rc;
    do rc = ::flock(fd, LOCK_EX);
    while (rc != 0 && errno == EINTR);
    if (rc != 0) {
        const int err = errno;
        ::close(fd);
        errno = err;
        return Status::io_error(errno_text("cannot lock", path));
    }
    return FileLock(fd);
}

FileLock::FileLock(FileLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }

FileLock& FileLock::operator=(FileLock&& other) noexcept {
    if (this != &other) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = other.fd_;
        other.fd_ = -1;
    }
    return *this;
}

FileLock::~FileLock() {
    if (fd_ >= 0) ::close(fd_);  // closing releases the flock
}

}  // namespace dhtalk
