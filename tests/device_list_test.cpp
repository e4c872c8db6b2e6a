// The device list's encoding and rules (records/device_list.h): a round
// trip, refusal of every field out of shape, who may sign a list, and that
// a removal is for good.
#include "records/device_list.h"

#include <functional>

#include "tests/doctest.h"

using namespace dhtalk;

namespace {

DeviceList sample_list() {
    return DeviceList{{{"0123456789abcdef", 1700000000000, "phone"}, {"fedcba9876543210", 1700000001000, ""}},
                      {"00000000000000aa"}};
}

}  // namespace

TEST_CASE("a device list round-trips, and its rules say who may sign it and what may follow it") {
    auto bytes = encode_device_list(sample_list());
    REQUIRE(bytes.is_ok());
    auto back = decode_device_list(*bytes);
    REQUIRE(back.is_ok());
    CHECK(*back == sample_list());
    CHECK(back->find("fedcba9876543210") != nullptr);
    CHECK(back->find("00000000000000aa") == nullptr);
    CHECK(back->is_removed("00000000000000aa"));

    CHECK(check_device_list_signer(*back, "0123456789abcdef").is_ok());
    CHECK(check_device_list_signer(*back, "00000000000000aa").code() == Code::kPermissionDenied);  // removed
    CHECK(check_device_list_signer(*back, "1111111111111111").code() == Code::kPermissionDenied);  // not listed

    DeviceList next = *back;
    next.devices.pop_back();
    next.removed.push_back("fedcba9876543210");
    CHECK(check_device_list_successor(*back, next).is_ok());
    CHECK(check_device_list_successor(next, *back).code() == Code::kPermissionDenied);  // brings one back
    CHECK(device_locator("0123456789abcdef").size() == 32);
    CHECK(device_locator("0123456789abcdef") != device_locator("fedcba9876543210"));
}

TEST_CASE("a device list out of shape is refused, encoding or decoding") {
    std::vector<std::pair<const char*, std::function<void(DeviceList&)>>> cases = {
        {"an id in capitals", [](DeviceList& l) { l.devices[0].id = "0123456789ABCDEF"; }},
        {"a short id", [](DeviceList& l) { l.devices[0].id = "0123"; }},
        {"an id that is not hex", [](DeviceList& l) { l.devices[0].id = "0123456789abcdeg"; }},
        {"a device twice", [](DeviceList& l) { l.devices[1].id = l.devices[0].id; }},
        {"a device listed and removed", [](DeviceList& l) { l.removed.push_back(l.devices[0].id); }},
        {"a removed id twice", [](DeviceList& l) { l.removed.push_back(l.removed[0]); }},
        {"a malformed removed id", [](DeviceList& l) { l.removed[0] = "x"; }},
        {"a long label", [](DeviceList& l) { l.devices[0].label.assign(kMaxDeviceLabelBytes + 1, 'l'); }},
        {"too many devices",
         [](DeviceList& l) {
             for (int i = 0; l.devices.size() <= kMaxDevices; ++i) {
                 char id[17];
                 std::snprintf(id, sizeof id, "%016x", 0x100 + i);
                 l.devices.push_back({id, 1, ""});
             }
         }},
    };
    for (const auto& [name, spoil] : cases) {
        CAPTURE(name);
        DeviceList l = sample_list();
        spoil(l);
        CHECK(encode_device_list(l).status().code() == Code::kInvalidArgument);
    }
    // Decoding: damage of every byte and every length is refused, never a crash.
    const std::string good = *encode_device_list(sample_list());
    for (size_t cut = 0; cut < good.size(); ++cut) CHECK_FALSE(decode_device_list(good.substr(0, cut)).is_ok());
    CHECK_FALSE(decode_device_list(good + "x").is_ok());
    for (size_t i = 0; i < good.size(); ++i) {
        std::string bad = good;
        bad[i] = static_cast<char>(bad[i] ^ 0x80);
        auto decoded = decode_device_list(bad);
        if (decoded.is_ok()) CHECK(check_device_list(*decoded).is_ok());
        else CHECK(decoded.status().code() == Code::kCorruption);
    }
    // Another format is refused.
    std::string other = good;
    REQUIRE(static_cast<uint8_t>(other[1]) == kDeviceListFormat);
    other[1] = 2;
    CHECK(decode_device_list(other).status().code() == Code::kCorruption);
}
