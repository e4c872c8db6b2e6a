// The Client's devices (docs/devices.md): the user's device list, a record
// any listed device signs; each device's own pre-key bundle; and the checks
// that decide which devices a message goes to.
#include <algorithm>
#include <array>
#include <cstdlib>
#include <sstream>
#include <utility>

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
    const bool own = user_id == profile_.user_id;
    auto seen = own ? seen_devices() : Result<SeenDevices>(SeenDevices{});
    if (!seen) return seen.status();
    ListedDevices out;
    auto record = fetch(RecordType::kDevices, user_id);
    if (!record) {
        if (record.status().code() != Code::kNotFound) return record.status();
        // This profile was on the list: its absence is the network's miss
        // (or a node's lie), never "no devices" to start again from; unless
        // the newest list it saw is past a record's lifetime (every device
        // away for a month): then it starts again from what it knows, the
        // removals kept, and writes that (list_this_device()).
        const auto seen_age = milliseconds(wall_ms() - static_cast<int64_t>(std::min<uint64_t>(seen->sequence, INT64_MAX)));
        const bool saw_list = seen->sequence > 0 || !seen->ids.empty();
        if (own && saw_list && seen_age <= kMaxRecordLifetime)
            return Status::unavailable("your device list cannot be read now: try again shortly");
        if (own) {
            for (const auto& id : seen->ids)
                if (std::find(seen->removed.begin(), seen->removed.end(), id) == seen->removed.end() &&
                    out.list.devices.size() < kMaxDevices - 1)  // room for this one
                    out.list.devices.push_back({id, 0, ""});
            // The newest removals, within the bound.
            const size_t skip = seen->removed.size() > kMaxRemovedDevices ? seen->removed.size() - kMaxRemovedDevices : 0;
            out.list.removed.assign(seen->removed.begin() + static_cast<std::ptrdiff_t>(skip), seen->removed.end());
        }
        out.sequence = own ? seen->sequence : 0;
    } else {
        auto list = decode_device_list(record->record.body);
        if (!list) return Status::corruption("the device list of " + user_id + " is malformed: " + list.status().message());
        // The node checked this too; a client believes only what it checks.
        if (Status signer = check_device_list_signer(*list, record->certificate_info.device_id); !signer)
            return Status::corruption("the device list of " + user_id + " is forged: " + signer.message());
        // Signed by a certificate issued in the open, like the keys it lists:
        // one kept out of the issuance log could otherwise remove them all.
        // (This device's own certificate needs no log: the user holds it.)
        auto logged = record->record.certificate == profile_.certificate ? Result<bool>(true)
                                                                          : in_issuance_log(user_id, record->record.certificate);
        if (!logged) return logged.status();
        if (!*logged)
            return Status::denied("the device list of " + user_id +
                                  " is signed by a key that is not in their issuance log: it may be forged, and is not used");
        out.list = std::move(list).value();
        out.sequence = record->record.sequence;
    }
    // Never an older list than one seen before (a node's own stale copy, or
    // a lie): the newer one held stands, or the user's own list waits.
    if (own && out.sequence < seen->sequence)
        return Status::unavailable("a node handed over an older device list than this profile saw: try again shortly");
    if (auto it = device_lists_.find(user_id); it != device_lists_.end() && out.sequence < it->second.second.sequence)
        out = it->second.second;
    // A device seen removed stays removed, whatever a node hands over later
    // (one that kept an older list, or a forged edit): for this process, and
    // for this profile's own list on disk.
    std::vector<std::string> removed = seen->removed;
    if (auto it = device_lists_.find(user_id); it != device_lists_.end())
        removed.insert(removed.end(), it->second.second.list.removed.begin(), it->second.second.list.removed.end());
    for (const auto& id : removed) {
        std::erase_if(out.list.devices, [&](const DeviceEntry& d) { return d.id == id; });
        if (!out.list.is_removed(id)) out.list.removed.push_back(id);
    }
    if (own && (out.list.removed.size() > seen->removed.size() || out.sequence > seen->sequence)) {
        seen->removed = out.list.removed;
        seen->sequence = out.sequence;
        DHTALK_TRY(save_seen_devices(*seen));
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
    // What this device wrote is the newest it saw, removals and all.
    auto seen = seen_devices();
    if (!seen) return seen.status();
    seen->removed = list.removed;
    seen->sequence = *published;
    DHTALK_TRY(save_seen_devices(*seen));
    device_lists_[profile_.user_id] = {steady_clock::now(), {std::move(list), *published}};
    return Status::ok();
}

Status Client::list_this_device(bool fresh) {
    if (!profile_.registered()) return Status::invalid("this profile has no user yet: register and verify first");
    auto own = device_list(profile_.user_id, fresh || !listed_);
    if (!own) return own.status();
    const std::string me = device_id();
    if (own->list.is_removed(me))
        return Status::denied("this device (" + me + ") was removed from your devices: it gets no more messages. "
                              "Register again to use this number here as a new device");
    DeviceList next = own->list;
    if (!next.find(me)) {
        if (next.devices.size() >= kMaxDevices)
            return Status::exhausted("you have " + std::to_string(kMaxDevices) +
                                     " devices already: remove one first ('dhtalk devices remove ID' on another)");
        next.devices.push_back({me, wall_ms(), ""});
    }
    // Records expire after 30 days: the list (and its removals) is written
    // again weekly by whichever device comes first.
    const auto age = milliseconds(wall_ms() - static_cast<int64_t>(std::min<uint64_t>(own->sequence, INT64_MAX)));
    if (next.devices.size() != own->list.devices.size() || age > kRepublishAfter)
        DHTALK_TRY(publish_device_list(std::move(next), own->sequence));
    if (!listed_) {
        auto seen = seen_devices();
        if (!seen) return seen.status();
        if (seen->ids.empty()) {
            // This profile's first look: what is listed now is known to it.
            for (const auto& d : device_lists_[profile_.user_id].second.list.devices) seen->ids.push_back(d.id);
            DHTALK_TRY(save_seen_devices(*seen));
        }
        // The only device: its list is the user's (one that could not tell
        // at its first login waited for it in vain).
        if (profile_.privacy && profile_.privacy_ms == 0 && device_lists_[profile_.user_id].second.list.devices.size() == 1)
            DHTALK_TRY(keep_privacy_as_only_device());
    }
    listed_ = true;
    return Status::ok();
}

Result<Client::SeenDevices> Client::seen_devices() {
    // PROFILE/devices.seen: one line per device of the user this profile
    // told the user of ("ID"), per removal it saw ("-ID"), and the
    // sequence of the newest list it saw ("#SEQUENCE").
    // Its first line names the user ("@USER"): a profile that registers
    // another number starts afresh.
    SeenDevices seen;
    const auto file = profile_.dir / "devices.seen";
    if (!std::filesystem::exists(file)) return seen;
    auto text = read_file(file, 256 * 1024);
    if (!text) return text.status();
    std::istringstream lines(*text);
    std::string first;
    if (!std::getline(lines, first) || first != "@" + profile_.user_id) return seen;
    for (std::string line; std::getline(lines, line);) {
        if (!line.empty() && line[0] == '#') {
            seen.sequence = std::strtoull(line.c_str() + 1, nullptr, 10);
            continue;
        }
        const bool removed = !line.empty() && line[0] == '-';
        const std::string id = removed ? line.substr(1) : line;
        if (crypto::is_device_id(id)) (removed ? seen.removed : seen.ids).push_back(id);
    }
    return seen;
}

Status Client::save_seen_devices(const SeenDevices& given) {
    // Merged with what is on disk: another process of this profile may
    // have written since this one read.
    auto on_disk = seen_devices();
    if (!on_disk) return on_disk.status();
    SeenDevices seen = given;
    for (const auto& id : on_disk->ids)
        if (std::find(seen.ids.begin(), seen.ids.end(), id) == seen.ids.end()) seen.ids.push_back(id);
    for (const auto& id : on_disk->removed)
        if (std::find(seen.removed.begin(), seen.removed.end(), id) == seen.removed.end()) seen.removed.push_back(id);
    seen.sequence = std::max(seen.sequence, on_disk->sequence);
    std::string text = "@" + profile_.user_id + "\n";
    for (const auto& id : seen.ids) text += id + "\n";
    for (const auto& id : seen.removed) text += "-" + id + "\n";
    text += "#" + std::to_string(seen.sequence) + "\n";
    return write_file_atomic(profile_.dir / "devices.seen", text, 0600);
}

Result<std::vector<std::string>> Client::take_new_devices(std::vector<std::string>* problems) {
    auto seen = seen_devices();
    if (!seen) return seen.status();
    std::vector<std::string> fresh;
    for (const auto& d : device_lists_[profile_.user_id].second.list.devices)
        if (d.id != device_id() && std::find(seen->ids.begin(), seen->ids.end(), d.id) == seen->ids.end())
            fresh.push_back(d.id);
    if (fresh.empty()) return fresh;
    // A new device gets the privacy list this one holds; each counts as told
    // only once it has it, so that a failure here is tried again.
    std::vector<std::string> told;
    for (const auto& id : fresh) {
        Status shared = profile_.privacy_ms > 0 ? share_privacy({id}) : Status::ok();
        if (!shared) {
            if (problems) problems->push_back("your privacy list is not yet on your new device " + id + ": " + shared.message());
            continue;
        }
        told.push_back(id);
    }
    if (told.empty()) return told;
    seen->ids.insert(seen->ids.end(), told.begin(), told.end());
    DHTALK_TRY(save_seen_devices(*seen));
    return told;
}

void Client::note_new_devices() {
    // Not being able to tell now only puts it off to the next look.
    auto added = take_new_devices(&notices_);
    if (added)
        for (const auto& id : *added) notices_.push_back(new_device_notice(id));
}

std::vector<std::string> Client::take_notices() { return std::exchange(notices_, {}); }

std::string Client::new_device_notice(const std::string& id) const {
    return "a new device was added to your account: " + id +
           ". If it is not yours, someone registered your number: remove it with 'dhtalk devices remove " + id + "'";
}

Result<Client::Devices> Client::devices() {
    auto lock = lock_messages();  // may share the privacy list (end to end)
    if (!lock) return lock.status();
    DHTALK_TRY(list_this_device(/*fresh*/ true));
    auto fresh = take_new_devices(nullptr);
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
    DHTALK_TRY(list_this_device(/*fresh*/ true));
    auto own = device_list(profile_.user_id);  // just read
    if (!own) return own.status();
    if (own->list.is_removed(id)) return Status::ok();
    if (!own->list.find(id)) return Status::not_found("you have no device " + id + " (see 'dhtalk devices')");
    // A list is signed by a device it keeps: another device removes this one.
    if (id == device_id())
        return Status::invalid("a device cannot remove itself: remove it from another of your devices");
    DeviceList next = own->list;
    std::erase_if(next.devices, [&](const DeviceEntry& d) { return d.id == id; });
    next.removed.push_back(id);
    return publish_device_list(std::move(next), own->sequence);
}

Status Client::share_privacy(const std::vector<std::string>& devices) {
    if (!profile_.privacy) return Status::ok();
    auto encoded = encode_privacy(*profile_.privacy);
    if (!encoded) return encoded.status();
    const MessageContent content{"privacy", "", profile_.privacy_ms, {}, *encoded, ""};
    auto ours = device_list(profile_.user_id, /*fresh*/ devices.empty());
    if (!ours) return ours.status();
    std::vector<FrameParams> requests;
    for (const auto& d : ours->list.devices) {
        if (d.id == device_id() || (!devices.empty() && std::find(devices.begin(), devices.end(), d.id) == devices.end()))
            continue;
        DHTALK_TRY(prepare_device(profile_.user_id, d.id));
        auto request = message_request(profile_.user_id, d.id, new_message_id(), content);
        if (!request) return request.status();
        requests.push_back(std::move(request).value());
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
    auto logged = in_issuance_log(user_id, record->record.certificate);
    if (!logged) return logged.status();
    if (!*logged)
        return Status::denied("the key " + user_id + " uses, in a certificate node " + info.issuer_node_id.substr(0, 16) +
                              " issued at " + std::to_string(info.not_before_s) +
                              " (Unix time), is not in their issuance log: it may be forged, and is not used");
    return std::pair{std::move(bundle).value(), info};
}

Result<bool> Client::in_issuance_log(const std::string& user_id, const std::string& certificate) {
    auto logged = logged_keys(user_id);
    if (!logged) return Status(logged.status().code(), "cannot read the issuance log of " + user_id + ": " + logged.status().message());
    return std::any_of(logged->begin(), logged->end(), [&](const IssuedKey& k) { return k.certificate == certificate; });
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
    // This user's own devices are told of it instead (take_new_devices()).
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
