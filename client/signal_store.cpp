#include "client/signal_store.h"

#include <signal_protocol.h>

#include "common/files.h"

namespace dhtalk::client {
namespace {

namespace fs = std::filesystem;
constexpr size_t kMaxStateFile = 256 * 1024;  // a session record with its skipped keys is far smaller

// File names come from user ids; anything else is refused before it
// touches a path.
bool is_safe_name(std::string_view name) {
    if (name.empty() || name.size() > 64) return false;
    for (char c : name)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) return false;
    return true;
}

std::optional<std::string> read_if_present(const fs::path& path) {
    std::error_code ec;
    if (!fs::exists(path, ec)) return std::nullopt;
    auto bytes = read_file(path, kMaxStateFile);
    if (!bytes) return std::nullopt;
    return std::move(bytes).value();
}

Status write_private(const fs::path& path, const std::string& bytes) {
    DHTALK_TRY(ensure_private_dir(path.parent_path()));
    return write_file_atomic(path, bytes, 0600);
}

std::string name_of(const signal_protocol_address* a) { return std::string(a->name, a->name_len); }

SignalStore& store_of(void* user_data) { return *static_cast<SignalStore*>(user_data); }

signal_buffer* buffer_of(const std::string& bytes) {
    return signal_buffer_create(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}

std::string bytes_of(const uint8_t* data, size_t len) { return {reinterpret_cast<const char*>(data), len}; }

// The library's callbacks, which read and write the SignalStore they are given.
namespace callback {

// Sessions.
int load_session(signal_buffer** record, signal_buffer** user_record, const signal_protocol_address* a, void* u) {
    *user_record = nullptr;
    auto bytes = store_of(u).session(name_of(a), a->device_id);
    if (!bytes) return 0;
    *record = buffer_of(*bytes);
    return *record ? 1 : SG_ERR_NOMEM;
}

int sub_device_sessions(signal_int_list** sessions, const char* name, size_t name_len, void* u) {
    signal_int_list* list = signal_int_list_alloc();
    if (!list) return SG_ERR_NOMEM;
    for (int32_t d : store_of(u).session_devices(std::string(name, name_len))) signal_int_list_push_back(list, d);
    *sessions = list;
    return static_cast<int>(signal_int_list_size(list));
}

int store_session(const signal_protocol_address* a, uint8_t* record, size_t len, uint8_t*, size_t, void* u) {
    return store_of(u).save_session(name_of(a), a->device_id, bytes_of(record, len)) ? SG_SUCCESS : SG_ERR_UNKNOWN;
}

int contains_session(const signal_protocol_address* a, void* u) {
    return store_of(u).session(name_of(a), a->device_id) ? 1 : 0;
}

int delete_session(const signal_protocol_address* a, void* u) {
    if (!store_of(u).session(name_of(a), a->device_id)) return 0;
    return store_of(u).delete_session(name_of(a), a->device_id) ? 1 : SG_ERR_UNKNOWN;
}

int delete_all_sessions(const char* name, size_t name_len, void* u) {
    const std::string user(name, name_len);
    int deleted = 0;
    for (int32_t d : store_of(u).session_devices(user))
        if (store_of(u).delete_session(user, d)) ++deleted;
    return deleted;
}

// One-time pre-keys: a used one moves aside instead of going (see the header).
int load_pre_key(signal_buffer** record, uint32_t id, void* u) {
    auto bytes = store_of(u).load_key("pre-keys", id);
    if (!bytes) bytes = store_of(u).load_key("used-pre-keys", id);
    if (!bytes) return SG_ERR_INVALID_KEY_ID;
    *record = buffer_of(*bytes);
    return *record ? SG_SUCCESS : SG_ERR_NOMEM;
}

int store_pre_key(uint32_t id, uint8_t* record, size_t len, void* u) {
    return store_of(u).store_key("pre-keys", id, bytes_of(record, len)) ? SG_SUCCESS : SG_ERR_UNKNOWN;
}

int contains_pre_key(uint32_t id, void* u) {
    return store_of(u).load_key("pre-keys", id) || store_of(u).load_key("used-pre-keys", id) ? 1 : 0;
}

int remove_pre_key(uint32_t id, void* u) {
    auto bytes = store_of(u).load_key("pre-keys", id);
    if (!bytes) return SG_SUCCESS;
    if (!store_of(u).store_key("used-pre-keys", id, *bytes)) return SG_ERR_UNKNOWN;
    return store_of(u).remove_key("pre-keys", id) ? SG_SUCCESS : SG_ERR_UNKNOWN;
}

// Signed pre-keys.
int load_signed_pre_key(signal_buffer** record, uint32_t id, void* u) {
    auto bytes = store_of(u).load_key("signed-pre-keys", id);
    if (!bytes) return SG_ERR_INVALID_KEY_ID;
    *record = buffer_of(*bytes);
    return *record ? SG_SUCCESS : SG_ERR_NOMEM;
}

int store_signed_pre_key(uint32_t id, uint8_t* record, size_t len, void* u) {
    return store_of(u).store_key("signed-pre-keys", id, bytes_of(record, len)) ? SG_SUCCESS : SG_ERR_UNKNOWN;
}

int contains_signed_pre_key(uint32_t id, void* u) { return store_of(u).load_key("signed-pre-keys", id) ? 1 : 0; }

int remove_signed_pre_key(uint32_t id, void* u) {
    return store_of(u).remove_key("signed-pre-keys", id) ? SG_SUCCESS : SG_ERR_UNKNOWN;
}

// Identity.
int get_identity_key_pair(signal_buffer** public_data, signal_buffer** private_data, void* u) {
    auto keys = store_of(u).identity_keys();
    if (!keys) return SG_ERR_UNKNOWN;
    *public_data = buffer_of(keys->first);
    *private_data = buffer_of(keys->second);
    return *public_data && *private_data ? SG_SUCCESS : SG_ERR_NOMEM;
}

int get_registration_id(void* u, uint32_t* registration_id) {
    auto id = store_of(u).registration_id();
    if (!id) return SG_ERR_UNKNOWN;
    *registration_id = *id;
    return SG_SUCCESS;
}

int save_identity(const signal_protocol_address* a, uint8_t* key, size_t len, void* u) {
    if (!key) return SG_SUCCESS;  // "forget": a changed key is kept as seen first until the user accepts it
    const std::string user = name_of(a);
    if (store_of(u).contact_key(user)) return SG_SUCCESS;
    return store_of(u).save_contact_key(user, bytes_of(key, len)) ? SG_SUCCESS : SG_ERR_UNKNOWN;
}

int is_trusted_identity(const signal_protocol_address* a, uint8_t* key, size_t len, void* u) {
    auto seen = store_of(u).contact_key(name_of(a));
    return !seen || *seen == bytes_of(key, len) ? 1 : 0;
}

}  // namespace callback
}  // namespace

Status SignalStore::attach(signal_protocol_store_context* context) {
    using namespace callback;
    signal_protocol_session_store sessions{load_session,         sub_device_sessions,           store_session,
                                           contains_session,     callback::delete_session,     delete_all_sessions,
                                           nullptr,              this};
    signal_protocol_pre_key_store pre_keys{load_pre_key, store_pre_key, contains_pre_key, remove_pre_key, nullptr, this};
    signal_protocol_signed_pre_key_store signed_keys{load_signed_pre_key, store_signed_pre_key,
                                                     contains_signed_pre_key, remove_signed_pre_key, nullptr, this};
    signal_protocol_identity_key_store identity{get_identity_key_pair, get_registration_id, callback::save_identity,
                                                is_trusted_identity, nullptr, this};
    if (signal_protocol_store_context_set_session_store(context, &sessions) != 0 ||
        signal_protocol_store_context_set_pre_key_store(context, &pre_keys) != 0 ||
        signal_protocol_store_context_set_signed_pre_key_store(context, &signed_keys) != 0 ||
        signal_protocol_store_context_set_identity_key_store(context, &identity) != 0)
        return Status::internal("cannot attach the profile's end-to-end state to the Signal protocol");
    return Status::ok();
}

bool SignalStore::has_identity() const {
    std::error_code ec;
    return fs::exists(dir_ / "registration.id", ec);
}

Status SignalStore::save_identity(const std::string& public_key, const std::string& private_key,
                                  uint32_t registration_id) {
    DHTALK_TRY(write_private(dir_ / "identity.public", public_key));
    DHTALK_TRY(write_private(dir_ / "identity.private", private_key));
    // Written last: its presence says the identity is whole.
    return write_private(dir_ / "registration.id", std::to_string(registration_id));
}

Result<std::pair<std::string, std::string>> SignalStore::identity_keys() const {
    auto public_key = read_file(dir_ / "identity.public", kMaxStateFile);
    if (!public_key) return public_key.status();
    auto private_key = read_file(dir_ / "identity.private", kMaxStateFile);
    if (!private_key) return private_key.status();
    return std::pair{std::move(public_key).value(), std::move(private_key).value()};
}

Result<uint32_t> SignalStore::registration_id() const {
    auto text = read_file(dir_ / "registration.id", 16);
    if (!text) return text.status();
    try {
        const unsigned long id = std::stoul(*text);
        if (id == 0 || id > 0x7fffffff) throw std::out_of_range("registration id");
        return static_cast<uint32_t>(id);
    } catch (const std::exception&) {
        return Status::corruption((dir_ / "registration.id").string() + " is not a registration id");
    }
}

Result<std::string> SignalStore::load_key(const char* kind, uint32_t id) const {
    auto bytes = read_if_present(dir_ / kind / std::to_string(id));
    if (!bytes) return Status::not_found(std::string(kind) + " " + std::to_string(id));
    return std::move(bytes).value();
}

Status SignalStore::store_key(const char* kind, uint32_t id, const std::string& record) {
    return write_private(dir_ / kind / std::to_string(id), record);
}

Status SignalStore::remove_key(const char* kind, uint32_t id) {
    std::error_code ec;
    fs::remove(dir_ / kind / std::to_string(id), ec);
    if (ec) return Status::io_error("cannot delete " + (dir_ / kind / std::to_string(id)).string() + ": " + ec.message());
    return Status::ok();
}

std::vector<uint32_t> SignalStore::key_ids(const char* kind) const {
    std::vector<uint32_t> ids;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir_ / kind, ec)) {
        const std::string name = entry.path().filename().string();
        if (name.empty() || name.size() > 10 || name.find_first_not_of("0123456789") != std::string::npos) continue;
        const unsigned long id = std::stoul(name);
        if (id <= UINT32_MAX) ids.push_back(static_cast<uint32_t>(id));
    }
    return ids;
}

void SignalStore::forget_old_used_pre_keys() {
    std::error_code ec;
    const auto cutoff = fs::file_time_type::clock::now() - kUsedPreKeyLifetime;
    for (const auto& entry : fs::directory_iterator(dir_ / "used-pre-keys", ec)) {
        std::error_code e;
        if (entry.last_write_time(e) < cutoff && !e) fs::remove(entry.path(), e);
    }
}

std::optional<std::string> SignalStore::contact_key(const std::string& user_id) const {
    if (!is_safe_name(user_id)) return std::nullopt;
    return read_if_present(dir_ / "contacts" / user_id);
}

std::vector<std::string> SignalStore::contact_names() const {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir_ / "contacts", ec)) out.push_back(entry.path().filename().string());
    return out;
}

Status SignalStore::save_contact_key(const std::string& user_id, const std::string& key) {
    if (!is_safe_name(user_id)) return Status::invalid("'" + user_id + "' is not a user id");
    return write_private(dir_ / "contacts" / user_id, key);
}

std::optional<std::string> SignalStore::session(const std::string& user_id, int32_t device) const {
    if (!is_safe_name(user_id)) return std::nullopt;
    return read_if_present(dir_ / "sessions" / (user_id + "." + std::to_string(device)));
}

Status SignalStore::save_session(const std::string& user_id, int32_t device, const std::string& record) {
    if (!is_safe_name(user_id)) return Status::invalid("'" + user_id + "' is not a user id");
    return write_private(dir_ / "sessions" / (user_id + "." + std::to_string(device)), record);
}

Status SignalStore::delete_session(const std::string& user_id, int32_t device) {
    if (!is_safe_name(user_id)) return Status::invalid("'" + user_id + "' is not a user id");
    std::error_code ec;
    fs::remove(dir_ / "sessions" / (user_id + "." + std::to_string(device)), ec);
    if (ec) return Status::io_error("cannot delete a session: " + ec.message());
    return Status::ok();
}

std::vector<int32_t> SignalStore::session_devices(const std::string& user_id) const {
    std::vector<int32_t> devices;
    if (!is_safe_name(user_id)) return devices;
    std::error_code ec;
    const std::string prefix = user_id + ".";
    for (const auto& entry : fs::directory_iterator(dir_ / "sessions", ec)) {
        const std::string name = entry.path().filename().string();
        if (name.rfind(prefix, 0) != 0) continue;
        const std::string device = name.substr(prefix.size());
        if (device.empty() || device.size() > 9 || device.find_first_not_of("0123456789") != std::string::npos) continue;
        devices.push_back(std::stoi(device));
    }
    return devices;
}

}  // namespace dhtalk::client
