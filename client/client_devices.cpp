// The Client's devices (docs/devices.md): the user's device list, a record
// any listed device signs; each device's own pre-key bundle; and the checks
// that decide which devices a message goes to.
#include <algorithm>
#include <array>
#include <sstream>

#include "client/client.h"
#include "common/files.h"
#include "crypto/signing.h"
#include "net/inbox_message.h"
#include "records/device_list.h"

namespace dhtalk::client {

using namespace std::chrono;

namespace {

// A contact's list is read again after this, so that a removed device stops
// getting messages from a long-running client too.
constexpr seconds kDeviceListLifetime{30};

int64_t wall_ms() { return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count(); }

}  // namespace

std::string Client::device_id() const {
    if (!device_id_.empty() || !profile_.registered()) return device_id_;
    auto cert = crypto::parse_certificate(profile_.certificate);
    if (!cert) return {};
    auto info = crypto::inspect_user_certificate(**cert);
    if (info) device_id_ = info->device_id;
    return device_id_;
}

Result<Client::ListedDevices> Client::device_list(const std::string& user_id, bool fresh) {
    if (!fresh) {
        auto it = device_lists_.find(user_id);
        if (it != device_lists_.end() && steady_clock::now() - it->second.first < kDeviceListLifetime) return it->second.second;
    }
    ListedDevices out;
    auto record = fetch(RecordType::kDevices, user_id);
    if (!record) {
        if (record.status().code() != Code::kNotFound) return record.status();
    } else {
        auto list = decode_device_list(record->record.body);
        if (!list) return Status::corruption("the device list of " + user_id + " is malformed: " + list.status().message());
        // The node checked this too; a client believes only what it checks.
        if (Status signer = check_device_list_signer(*list, record->certificate_info.device_id); !signer)
            return Status::corruption("the device list of " + user_id + " is forged: " + signer.message());
        out.list = std::move(list).value();
        out.sequence = record->record.sequence;
    }
    // A device this process saw removed stays removed, whatever a node
    // hands over later (one that kept an older list, or a forged edit).
    if (auto it = device_lists_.find(user_id); it != device_lists_.end()) {
        const DeviceList& before = it->second.second.list;
        if (!check_device_list_successor(before, out.list)) {
            for (const auto& id : before.removed) {
                std::erase_if(out.list.devices, [&](const DeviceEntry& d) { return d.id == id; });
                if (!out.list.is_removed(id)) out.list.removed.push_back(id);
            }
        }
    }
    device_lists_[user_id] = {steady_clock::now(), out};
    return out;
}

Status Client::publish_device_list(DeviceList list, uint64_t after_sequence) {
    auto body = encode_device_list(list);
    if (!body) return body.status();
    // Another device of the user wrote the one before: ours must follow it.
    profile_.last_sequence = std::max(profile_.last_sequence, after_sequence);
    Record r;
    r.type = RecordType::kDevices;
    r.body = std::move(body).value();
    auto published = publish(std::move(r));
    if (!published) return published.status();
    device_lists_[profile_.user_id] = {steady_clock::now(), {std::move(list), *published}};
    return Status::ok();
}

Result<std::vector<std::string>> Client::list_this_device(bool fresh) {
    if (!profile_.registered()) return Status::invalid("this profile has no user yet: register and verify first");
    auto own = device_list(profile_.user_id, fresh || !listed_);
    if (!own) return own.status();
    const std::string me = device_id();
    if (own->list.is_removed(me))
        return Status::denied("this device (" + me + ") was removed from your devices: it gets no more messages. "
                              "Register again to use this number here as a new device");
    if (!own->list.find(me)) {
        if (own->list.devices.size() >= kMaxDevices)
            return Status::exhausted("you have " + std::to_string(kMaxDevices) +
                                     " devices already: remove one first ('dhtalk devices remove ID' on another)");
        DeviceList next = own->list;
        next.devices.push_back({me, wall_ms(), ""});
        DHTALK_TRY(publish_device_list(std::move(next), own->sequence));
    }
    listed_ = true;
    return devices_new_here();
}

Result<std::vector<std::string>> Client::devices_new_here() {
    // The devices this profile has heard of, so that a new one is told once.
    const auto seen_file = profile_.dir / "devices.seen";
    std::vector<std::string> seen;
    const bool first = !std::filesystem::exists(seen_file);
    if (!first) {
        auto text = read_file(seen_file, 64 * 1024);
        if (!text) return text.status();
        std::istringstream lines(*text);
        for (std::string id; std::getline(lines, id);)
            if (crypto::is_device_id(id)) seen.push_back(id);
    }
    std::vector<std::string> fresh;
    const DeviceList& list = device_lists_[profile_.user_id].second.list;
    for (const auto& d : list.devices)
        if (std::find(seen.begin(), seen.end(), d.id) == seen.end()) {
            seen.push_back(d.id);
            if (!first && d.id != device_id()) fresh.push_back(d.id);
        }
    if (fresh.empty() && !first) return fresh;
    std::string text;
    for (const auto& id : seen) text += id + "\n";
    DHTALK_TRY(write_file_atomic(seen_file, text, 0600));
    return fresh;
}

std::string Client::new_device_notice(const std::string& id) const {
    return "a new device was added to your account: " + id +
           ". If it is not yours, someone registered your number: remove it with 'dhtalk devices remove " + id + "'";
}

Result<Client::Devices> Client::devices() {
    auto fresh = list_this_device(/*fresh*/ true);
    if (!fresh) return fresh.status();
    const DeviceList& list = device_lists_[profile_.user_id].second.list;
    Devices out;
    for (const auto& d : list.devices)
        out.devices.push_back({d.id, d.added_ms, d.label, d.id == device_id(),
                               std::find(fresh->begin(), fresh->end(), d.id) != fresh->end()});
    out.removed = list.removed;
    return out;
}

Status Client::remove_device(const std::string& id) {
    if (!crypto::is_device_id(id)) return Status::invalid("'" + id + "' is not a device id (16 hex digits; see 'dhtalk devices')");
    auto listed = list_this_device(/*fresh*/ true);
    if (!listed) return listed.status();
    auto own = device_list(profile_.user_id);  // just read
    if (!own) return own.status();
    if (own->list.is_removed(id)) return Status::ok();
    if (!own->list.find(id)) return Status::not_found("you have no device " + id + " (see 'dhtalk devices')");
    DeviceList next = own->list;
    std::erase_if(next.devices, [&](const DeviceEntry& d) { return d.id == id; });
    next.removed.push_back(id);
    if (id == device_id() && next.devices.empty())
        return Status::invalid("this is your only device: there would be none left to write the list");
    return publish_device_list(std::move(next), own->sequence);
}

Status Client::share_privacy(const std::vector<std::string>& devices) {
    if (!profile_.privacy) return Status::ok();
    auto e2e = end_to_end();
    if (!e2e) return e2e.status();
    auto encoded = encode_privacy(*profile_.privacy);
    if (!encoded) return encoded.status();
    const std::string content = encode_content(MessageContent{"privacy", "", profile_.privacy_ms, {}, *encoded, ""});
    auto ours = device_list(profile_.user_id, /*fresh*/ devices.empty());
    if (!ours) return ours.status();
    std::vector<FrameParams> requests;
    for (const auto& d : ours->list.devices) {
        if (d.id == device_id() || (!devices.empty() && std::find(devices.begin(), devices.end(), d.id) == devices.end()))
            continue;
        DHTALK_TRY(prepare_device(profile_.user_id, d.id));
        auto envelope = (*e2e)->encrypt(inbox_address(profile_.user_id, d.id), content);
        if (!envelope) return envelope.status();
        std::array<uint8_t, 16> id{};
        crypto::random_bytes(id);
        requests.push_back({{"to", profile_.user_id},
                            {"device", d.id},
                            {"id", crypto::to_hex(std::string_view(reinterpret_cast<const char*>(id.data()), id.size()))},
                            {"body", std::move(envelope).value()},
                            {"sent_ms", static_cast<uint64_t>(std::max<int64_t>(wall_ms(), 0))}});
    }
    if (requests.empty()) return Status::ok();
    auto replies = call_batch("message.send", std::move(requests));
    if (!replies) return replies.status();
    for (const auto& r : *replies) DHTALK_TRY(r.status());
    return Status::ok();
}

Result<std::pair<PreKeyBundle, crypto::UserCertificateInfo>> Client::bundle_of(const std::string& user_id,
                                                                               const std::string& device) {
    auto record = fetch(RecordType::kPreKeys, user_id, device_locator(device));
    if (!record) {
        if (record.status().code() == Code::kNotFound)
            return Status::not_found("device " + device + " of " + user_id + " has not published keys for messages (" +
                                     record.status().message() + ")");
        return record.status();
    }
    const auto& info = record->certificate_info;
    if (info.device_id != device)
        return Status::corruption("the keys of device " + device + " of " + user_id + " are signed by another device");
    auto bundle = decode_pre_key_bundle(record->record.body);
    if (!bundle) return Status::corruption("the keys " + user_id + " published are malformed: " + bundle.status().message());
    // A member issues no certificate without publishing it in its user's
    // log, where every contact (and the audit) sees it: one that is not
    // there was issued in secret.
    auto logged = logged_keys(user_id);
    if (!logged) return Status(logged.status().code(), "cannot read the issuance log of " + user_id + ": " + logged.status().message());
    if (std::none_of(logged->begin(), logged->end(), [&](const IssuedKey& k) { return k.certificate == record->record.certificate; }))
        return Status::denied("the key " + user_id + " uses, in a certificate node " + info.issuer_node_id.substr(0, 16) +
                              " issued at " + std::to_string(info.not_before_s) +
                              " (Unix time), is not in their issuance log: it may be forged, and is not used");
    return std::pair{std::move(bundle).value(), info};
}

Status Client::prepare_device(const std::string& user_id, const std::string& device) {
    auto e2e = end_to_end();
    if (!e2e) return e2e.status();
    const std::string peer = inbox_address(user_id, device);
    const bool has_session = (*e2e)->has_session(peer);
    // Once a process, the device's published key is compared with the one
    // seen before: a change is shown before anything is encrypted to it.
    if (has_session && keys_checked_.count(peer)) return Status::ok();
    auto bundle = bundle_of(user_id, device);
    if (!bundle) return has_session ? Status::ok() : bundle.status();
    const auto& info = bundle->second;
    const std::string vouched = "in a certificate node " + info.issuer_node_id.substr(0, 16) + " issued at " +
                                std::to_string(info.not_before_s) + " (Unix time)";
    auto seen = (*e2e)->contact_key(peer);
    if (seen && *seen != bundle->first.identity_key)
        return Status::denied(user_id + " has a new key, " + vouched +
                              ": a new phone, or someone else. Check with them, then accept it with 'dhtalk trust " +
                              user_id + "'");
    // A contact's devices are trusted as first seen (pin_devices()); one
    // added later could be anyone who got a certificate for their number.
    // This user's own devices are told of it instead (list_this_device()).
    if (!seen && user_id != profile_.user_id)
        return Status::denied(user_id + " has a new device (" + device + "), " + vouched +
                              ": a new phone, or someone else. Check with them, then accept it with 'dhtalk trust " +
                              user_id + "'");
    if (!has_session) DHTALK_TRY((*e2e)->start_session(peer, bundle->first));
    keys_checked_.insert(peer);
    return Status::ok();
}

Result<Client::ContactKey> Client::pin_devices(const std::string& user_id) {
    auto e2e = end_to_end();
    if (!e2e) return e2e.status();
    auto theirs = device_list(user_id, /*fresh*/ true);
    if (!theirs) return theirs.status();
    if (theirs->list.devices.empty())
        return Status::not_found("no such user, or the user has no device that takes messages yet");
    ContactKey out;
    size_t pinned = 0;
    for (const auto& d : theirs->list.devices) {
        auto bundle = bundle_of(user_id, d.id);
        if (!bundle) {
            if (bundle.status().code() == Code::kNotFound) continue;  // listed before it published its keys
            return bundle.status();
        }
        pinned++;
        const std::string peer = inbox_address(user_id, d.id);
        auto seen = (*e2e)->contact_key(peer);
        if (seen && *seen == bundle->first.identity_key) continue;
        // The newest first: the key the user is asked about.
        if (!out.changed || bundle->second.not_before_s > out.issued_s)
            out = {true, bundle->second.issuer_node_id, bundle->second.not_before_s};
        DHTALK_TRY((*e2e)->accept_contact_key(peer, bundle->first.identity_key));
        keys_checked_.insert(peer);
    }
    if (pinned == 0) return Status::not_found(user_id + " has no device that published keys for messages yet");
    return out;
}

Result<Client::ContactKey> Client::trust_key(const std::string& user_id) {
    auto lock = lock_messages();
    if (!lock) return lock.status();
    return pin_devices(user_id);
}

}  // namespace dhtalk::client
