#pragma once
// Helpers shared by the test suites: temporary directories and waiting for a
// condition with a deadline (never a fixed sleep).

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <vector>
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

// Whether `part` occurs in `s` (an error message, a command's output).
inline bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// Polls `done` until it is true or `timeout` passes; returns done().
bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout,
                std::chrono::milliseconds poll = std::chrono::milliseconds(20));

void write_text(const std::filesystem::path& path, const std::string& text);

}  // namespace dhtalk::test

namespace dhtalk::test {

// A child process started from argv, with stdout and stderr sent to files.
// The destructor kills it (SIGKILL) if it is still running.
class Process {
public:
    Process(const std::vector<std::string>& argv, const std::filesystem::path& out,
            const std::filesystem::path& err);
    ~Process();
    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;

    int pid() const { return pid_; }
    void signal(int sig);
    // The exit status once the process has ended within `timeout`
    // (128 + signal number if a signal ended it), or nullopt.
    std::optional<int> wait(std::chrono::milliseconds timeout);
    bool running();

private:
    int pid_ = -1;
    std::optional<int> status_;
};

// Runs a command to completion (bounded by `timeout`) and returns its exit
// status and output.
struct RunResult {
    int status = -1;
    std::string out;
    std::string err;
};
RunResult run(const std::vector<std::string>& argv, const std::filesystem::path& scratch,
              std::chrono::milliseconds timeout = std::chrono::seconds(30));

std::string read_text(const std::filesystem::path& path);

// Path of a built program, from the environment variable meson sets.
std::string program_path(const char* env_var);

}  // namespace dhtalk::test
