#pragma once
// DeviceList: the body of a user's "devices" record (docs/devices.md), the
// devices a message to the user goes to:
//   [format 1, [[device id, added_ms, label], ...], [removed device id, ...]]
// A device id names the key of one user certificate (16 hex digits,
// crypto::UserCertificateInfo::device_id); each device publishes its own
// pre-key bundle at device_locator(id). Any device of the user may write the
// list, but only one it lists and has not removed: a removed device cannot
// sign itself back in, and storing nodes never let the removed ids shrink
// (record_validator.h). The decoder treats its input as hostile. Thread-safe.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace dhtalk {

inline constexpr uint64_t kDeviceListFormat = 1;
inline constexpr size_t kMaxDevices = 8;
// Removed ids are kept for good (a removed device must not come back); a
// user who removed this many registers again under a new number's list.
inline constexpr size_t kMaxRemovedDevices = 256;
inline constexpr size_t kMaxDeviceLabelBytes = 64;

struct DeviceEntry {
    std::string id;
    int64_t added_ms = 0;
    std::string label;  // what the user called it, or ""

    bool operator==(const DeviceEntry&) const = default;
};

struct DeviceList {
    std::vector<DeviceEntry> devices;
    std::vector<std::string> removed;

    const DeviceEntry* find(std::string_view id) const;
    bool is_removed(std::string_view id) const;
    bool operator==(const DeviceList&) const = default;
};

// kInvalidArgument naming what is wrong: ids malformed or repeated, a device
// both listed and removed, more than the bounds.
Status check_device_list(const DeviceList& list);
// Whether the device `signer` may have written `list`: listed and not removed.
Status check_device_list_signer(const DeviceList& list, std::string_view signer);
// Whether `next` may replace `prev`: every id `prev` removed stays removed.
Status check_device_list_successor(const DeviceList& prev, const DeviceList& next);
Result<std::string> encode_device_list(const DeviceList& list);
// kCorruption for anything but one well-formed list of this format.
Result<DeviceList> decode_device_list(std::string_view bytes);

// The locator of the pre-key bundle record of device `id`: SHA-256 of
// "dhtalk device " and the id, so that a storing node can check that the
// bundle's certificate is the device's.
std::string device_locator(std::string_view device_id);

}  // namespace dhtalk
