#pragma once
// MemoryNodeEnv: a NodeEnv for tests and simulations, with nothing on disk
// but what the node keeps itself (identity, runtime files). Each data
// directory gets a MemoryStore that outlives the nodes opened on it, so a
// node reopened on the same directory finds its state, as a real node finds
// its database. Verification codes are recorded here instead of sent.
// Everything else is the system's (system_node_env): threads, sockets.
//
// Thread-safe: the node's threads send codes while a test reads them. The
// clock must outlive this object, which must outlive every node opened
// with env().

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "node/node_env.h"
#include "storage/memory_store.h"

namespace dhtalk::test {

class MemoryNodeEnv {
public:
    explicit MemoryNodeEnv(const Clock& clock);
    MemoryNodeEnv(const MemoryNodeEnv&) = delete;
    MemoryNodeEnv& operator=(const MemoryNodeEnv&) = delete;

    const NodeEnv& env() const { return env_; }
    // The store a node keeps under `dir` (its data directory's "db"), or
    // null if no node has opened one there.
    MemoryStore* store(const std::filesystem::path& dir);
    // The last code sent to `e164`, or empty if none was.
    std::string last_code(const std::string& e164);

private:
    NodeEnv env_;
    std::mutex mutex_;
    std::map<std::filesystem::path, std::shared_ptr<MemoryStore>> stores_;  // guarded by mutex_
    std::map<std::string, std::string> last_codes_;                         // guarded by mutex_
};

}  // namespace dhtalk::test
