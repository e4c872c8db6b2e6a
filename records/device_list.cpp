#include "records/device_list.h"

#include <algorithm>
#include <set>

#include "common/msgpack_io.h"
#include "crypto/signing.h"
#include "crypto/user_certificate.h"

namespace dhtalk {

const DeviceEntry* DeviceList::find(std::string_view id) const {
    auto it = std::find_if(devices.begin(), devices.end(), [&](const DeviceEntry& d) { return d.id == id; });
    return it == devices.end() ? nullptr : &*it;
}

bool DeviceList::is_removed(std::string_view id) const {
    return std::find(removed.begin(), removed.end(), id) != removed.end();
}

Status check_device_list(const DeviceList& list) {
    if (list.devices.size() > kMaxDevices)
        return Status::invalid("a device list of more than " + std::to_string(kMaxDevices) + " devices");
    if (list.removed.size() > kMaxRemovedDevices)
        return Status::invalid("a device list that removed more than " + std::to_string(kMaxRemovedDevices) + " devices");
    std::set<std::string_view> seen;
    for (const auto& d : list.devices) {
        if (!crypto::is_device_id(d.id)) return Status::invalid("a device id that is not 16 hex digits");
        if (d.label.size() > kMaxDeviceLabelBytes) return Status::invalid("a device label over " + std::to_string(kMaxDeviceLabelBytes) + " bytes");
        if (!seen.insert(d.id).second) return Status::invalid("device " + d.id + " is listed twice");
    }
    for (const auto& id : list.removed) {
        if (!crypto::is_device_id(id)) return Status::invalid("a removed device id that is not 16 hex digits");
        if (!seen.insert(id).second) return Status::invalid("device " + id + " is listed and removed, or removed twice");
    }
    return Status::ok();
}

Status check_device_list_signer(const DeviceList& list, std::string_view signer) {
    if (list.is_removed(signer)) return Status::denied("the device list is signed by device " + std::string(signer) + ", which was removed");
    if (!list.find(signer)) return Status::denied("the device list is signed by device " + std::string(signer) + ", which it does not list");
    return Status::ok();
}

Status check_device_list_successor(const DeviceList& prev, const DeviceList& next) {
    for (const auto& id : prev.removed)
        if (!next.is_removed(id)) return Status::denied("the device list brings back device " + id + ", which was removed");
    return Status::ok();
}

Result<std::string> encode_device_list(const DeviceList& list) {
    DHTALK_TRY(check_device_list(list));
    msgpack::sbuffer buf;
    MsgpackPacker pk(buf);
    pk.pack_array(3);
    pk.pack(kDeviceListFormat);
    pk.pack_array(static_cast<uint32_t>(list.devices.size()));
    for (const auto& d : list.devices) {
        pk.pack_array(3);
        pk.pack(d.id);
        pk.pack(d.added_ms);
        pk.pack(d.label);
    }
    pk.pack(list.removed);
    return std::string(buf.data(), buf.size());
}

Result<DeviceList> decode_device_list(std::string_view bytes) {
    auto decoded = decode_guarded<DeviceList>("device list", [&]() -> Result<DeviceList> {
        const msgpack::unpack_limit limit(/*array*/ kMaxRemovedDevices, /*map*/ 0, /*str*/ kMaxDeviceLabelBytes,
                                          /*bin*/ 0, /*ext*/ 0, /*depth*/ 3);
        auto h = unpack_whole(bytes.data(), bytes.size(), limit, "device list");
        Fields f(h.get(), 3, "device list");
        if (f.uint(UINT64_MAX) != kDeviceListFormat) f.fail("format " + std::to_string(kDeviceListFormat));
        DeviceList list;
        for (const auto& o : f.array(kMaxDevices)) {
            Fields d(o, 3, "device");
            DeviceEntry e;
            e.id = d.str(crypto::kDeviceIdChars);
            e.added_ms = d.sint();
            e.label = d.str(kMaxDeviceLabelBytes);
            list.devices.push_back(std::move(e));
        }
        list.removed = f.str_list(kMaxRemovedDevices, crypto::kDeviceIdChars);
        DHTALK_TRY(check_device_list(list));
        return list;
    });
    if (!decoded) return Status::corruption(decoded.status().message());
    return decoded;
}

std::string device_locator(std::string_view device_id) { return crypto::sha256("dhtalk device " + std::string(device_id)); }

}  // namespace dhtalk
