#include "testing/test_util.h"

#include <fcntl.h>

#include <cstdlib>
#include <fstream>
#include <stdexcept>

namespace dhtalk::test {

TempDir::TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/dhtalk-test-XXXXXX";
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
}

TempDir::~TempDir() {
    if (const char* keep = std::getenv("DHTALK_KEEP_TEST_DIRS"); keep && *keep) return;  // to read after a failure
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout,
                std::chrono::milliseconds poll) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
        if (std::chrono::steady_clock::now() >= deadline) return done();
        std::this_thread::sleep_for(poll);
    }
    return true;
}

void write_text(const std::filesystem::path& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out) throw std::runtime_error("cannot write " + path.string());
}

}  // namespace dhtalk::test

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <sstream>

extern char** environ;

namespace dhtalk::test {

Process::Process(const std::vector<std::string>& argv, const std::filesystem::path& out,
                 const std::filesystem::path& err) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    const int rc = posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) throw std::runtime_error("cannot start " + argv[0]);
}

Process::~Process() {
    if (running()) {
        ::kill(pid_, SIGKILL);
        wait(std::chrono::seconds(10));
    }
}

void Process::signal(int sig) { ::kill(pid_, sig); }

bool Process::running() {
    if (status_) return false;
    return !wait(std::chrono::milliseconds(0));
}

std::optional<int> Process::wait(std::chrono::milliseconds timeout) {
    if (status_) return status_;
    wait_until(
        [&] {
            int st = 0;
            if (::waitpid(pid_, &st, WNOHANG) != pid_) return false;
            status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
            return true;
        },
        timeout, std::chrono::milliseconds(10));
    return status_;
}

RunResult run(const std::vector<std::string>& argv, const std::filesystem::path& scratch,
              std::chrono::milliseconds timeout) {
    const auto out = scratch / "run.out", err = scratch / "run.err";
    Process p(argv, out, err);
    RunResult r;
    auto st = p.wait(timeout);
    r.status = st ? *st : -1;
    r.out = read_text(out);
    r.err = read_text(err);
    return r;
}

std::string read_text(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream os;
    os << in.rdbuf();
    return os.str();
}

std::string program_path(const char* env_var) {
    const char* p = std::getenv(env_var);
    if (!p || !*p) throw std::runtime_error(std::string(env_var) + " is not set (run the tests through meson)");
    return p;
}

}  // namespace dhtalk::test
