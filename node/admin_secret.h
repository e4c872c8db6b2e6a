#pragma once
// The admin secret: a random token in DATA_DIR/admin.secret (owner-only),
// made at a node's first start with a roster. The status server takes admin
// requests only from loopback and only with it (status_server.h); the
// `dhtalk admin` command reads it from the data directory.

#include <filesystem>
#include <string>

#include "common/status.h"

namespace dhtalk {

inline constexpr const char* kAdminSecretFile = "admin.secret";
// The HTTP header an admin request carries the secret in.
inline constexpr const char* kAdminSecretHeader = "X-Dhtalk-Admin-Secret";

// The secret of the node whose data directory is `data_dir` (kNotFound if
// the node has never started with a roster, kCorruption if it is damaged).
Result<std::string> read_admin_secret(const std::filesystem::path& data_dir);
// The same, made and written first if there is none yet.
Result<std::string> load_or_create_admin_secret(const std::filesystem::path& data_dir);

}  // namespace dhtalk
