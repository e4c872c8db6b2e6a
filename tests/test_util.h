#pragma once
// Helpers shared by the test suites: temporary directories and waiting for a
// condition with a deadline (never a fixed sleep).

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>

namespace dhtalk::test {

// A fresh directory under $TMPDIR, removed with everything in it.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

private:
    std::filesystem::path path_;
};

// Polls `done` until it is true or `timeout` passes; returns done().
bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout,
                std::chrono::milliseconds poll = std::chrono::milliseconds(20));

void write_text(const std::filesystem::path& path, const std::string& text);

}  // namespace dhtalk::test
