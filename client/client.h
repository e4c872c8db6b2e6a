#pragma once
// Client: the client library behind the `dhtalk` user commands, usable by
// other programs. It keeps a Profile, talks to the first reachable node of
// its list (failing over to the next when one is down or breaks mid-call),
// and turns the user's intentions into signed records: it generates the
// user's key, seals the privacy list to it, encrypts media metadata, and
// checks every record a node returns before believing it. One thread at a time.

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/files.h"
#include "records/record.h"
#include "records/device_list.h"
#include "records/record_bodies.h"
#include "client/client_connection.h"
#include "client/attachment.h"
#include "client/client_profile.h"
#include "client/end_to_end.h"
#include "client/message_content.h"
#include "client/message_history.h"
#include "client/trusted_roster.h"

namespace dhtalk::client {

// Whether a call failed because of the node (gone, broken, or answering
// nonsense) rather than a refusal: then the client tries the next node.
bool node_failed(const Status& s);

struct ClientOptions {
    std::filesystem::path profile_dir;
    std::vector<std::string> nodes;  // HOST:PORT in order; default: the profile's, else 127.0.0.1:4223
    std::chrono::milliseconds timeout{std::chrono::seconds(15)};
};

// A member of the network as the client knows it: its client endpoints
// from the roster this client verified (or a newer member update the
// member signed), and its load as the node asked reported it.
struct NodeInfo {
    std::string node_id;
    std::vector<std::string> endpoints;
    std::string state;  // alive, suspect or dead; "" if the node did not say
    uint32_t sessions = 0;
    uint32_t capacity = 0;
    bool current = false;  // the node this client asked
};

struct MediaPublished {
    MediaReference reference;
    MediaMetadata metadata;
    std::filesystem::path encrypted_file;  // where the encrypted content was written
};

class Client {
public:
    static Result<std::unique_ptr<Client>> open(ClientOptions options);
    ~Client();

    const Profile& profile() const { return profile_; }
    // The node the client is connected to ("" before the first call).
    std::string node() const { return connection_ ? connection_->endpoint() : ""; }
    std::string node_id() const { return node_id_; }
    // The network's name, as the verified roster gives it ("" before the first call).
    std::string network_name() const { return roster_ ? roster_->current().settings.name : ""; }

    // Step 1 of registration: asks a node to send a code to `phone`.
    // Returns the user id the number will have.
    Result<std::string> register_number(const std::string& phone);
    // Step 2: makes the user's key, has the node check `code` and issue the
    // certificate, and saves both in the profile.
    Status verify(const std::string& code);

    Result<uint64_t> set_vcard(const VCard& card);
    Result<VCard> vcard(const std::string& user_id);
    // A phone number (+E164) or a user id, as a user id.
    Result<std::string> user_id_of(const std::string& phone_or_id);

    // The user's own privacy list: the profile's copy (empty for a user who
    // never set one). A profile without a copy reads the list from the DHT
    // (opened with the user's key) and keeps it; if that read fails, even as
    // "not found", it is an error (kUnavailable), so that no edit starts
    // from a list that merely could not be read.
    Result<PrivacyList> privacy();
    // Keeps `list` in the profile, publishes it (sealed to the user, with a
    // higher sequence) and gives it to the node to enforce.
    Status set_privacy(const PrivacyList& list);

    Result<MediaPublished> publish_media(const std::filesystem::path& file, const std::string& type);
    Result<MediaMetadata> media_info(const MediaReference& reference);

    // Presence: the user's own, another user's as this user may see it, and
    // a stream of changes of the users watched (until the connection ends;
    // `on_change` returns false to stop).
    Status set_presence(const std::string& show, const std::string& status);
    Result<FrameParams> presence(const std::string& user_id);
    Status watch_presence(const std::vector<std::string>& user_ids,
                          const std::function<bool(const FrameParams&)>& on_change);

    // Messages (docs/messaging.md), end-to-end encrypted. The user's pre-key
    // bundle, which others start sessions from: published after
    // verification, and again when it is due (end_to_end.h).
    Status publish_keys();
    // Encrypts `text` to the user (starting a session from their published
    // bundle the first time) and has the network hold it. Returns the
    // message once it is stored; it is in the history already.
    Result<ChatMessage> send_message(const std::string& to_user_id, const std::string& text);
    // Encrypts and uploads the file at `path` (docs/media.md), then sends it
    // with `caption` as a message. Returns the message once stored; it is in
    // the history already. `progress` hears of each chunk uploaded.
    Result<ChatMessage> send_file(const std::string& to_user_id, const std::filesystem::path& path,
                                  const std::string& type, const std::string& caption, const Progress& progress = {});
    // Downloads, checks and decrypts the file of `m` into `dir`, under its
    // sender's file name made safe (with a number added if taken): its path.
    Result<std::filesystem::path> save_attachment(const ChatMessage& m, const std::filesystem::path& dir,
                                                  const Progress& progress = {});
    // What a receive brings: the received messages not shown yet (oldest
    // first; mark_shown() once shown), and the receipts that came now.
    struct Received {
        std::vector<ChatMessage> messages;
        std::vector<Receipt> receipts;
    };
    // Fetches what waits in the inbox, opens each message, keeps the new ones
    // in the history and then acknowledges them, and sends the delivery
    // receipts owed (durably: one not sent now is sent by a later call). A
    // message that cannot be opened (forged, or under a key other than the
    // one seen before) is not shown: it is acknowledged, and described in
    // `problems`.
    Result<Received> receive_messages(std::vector<std::string>* problems = nullptr);
    Status mark_shown(const std::vector<ChatMessage>& messages);
    // Marks every message received from `user_id` that none covered yet as
    // read, and tells them with a read receipt unless the user's privacy
    // list turned read receipts off.
    struct ReadMarked {
        size_t covered = 0;  // messages
        bool told = false;   // a read receipt was sent
    };
    Result<ReadMarked> mark_read(const std::string& user_id);
    Result<std::vector<ChatMessage>> conversation(const std::string& user_id);
    // What this profile sent (to `user_id`, or to anyone), each with its
    // state (expired: past the expiry the node gave, with no receipt),
    // after a receive that brings in the receipts waiting.
    Result<std::vector<std::pair<ChatMessage, SentState>>> sent_messages(const std::string& user_id,
                                                                          std::vector<std::string>* problems = nullptr);
    // A contact's key as their published bundle has it, and who vouched for it.
    struct ContactKey {
        bool changed = false;         // it was not the key this profile had seen
        std::string issuer_node_id;   // the member that issued the certificate signing the bundle
        int64_t issued_s = 0;         // when (Unix seconds)
    };
    // Accepts the key `user_id` publishes now as theirs: after a key change
    // (a new phone, or someone else), which sending and receiving refuse
    // until the user checks with the contact and accepts it. Messages under
    // the new key then open, and the next message starts a new session.
    Result<ContactKey> trust_key(const std::string& user_id);
    // The certificates in `user_id`'s issuance log that this client can
    // check (issued by a current member, for them, valid now), newest
    // first; `current` marks the one their published keys are signed with.
    struct IssuedKey {
        std::string issuer_node_id;
        int64_t issued_s = 0;
        int64_t expires_s = 0;
        bool current = false;
        std::string certificate;  // PEM
    };
    Result<std::vector<IssuedKey>> issued_keys(const std::string& user_id);

    // Receives until `on_received` returns false or no node is left: what
    // waits first, then what the node pushes as it comes (the inbox
    // followed), with a fetch now and then in case a push was lost. Fails
    // over to the next node like watch_presence. `on_problem` hears of each
    // message not shown (see receive_messages); `on_following` of each node
    // followed through, once what waited there is handed over.
    Status follow_messages(const std::function<bool(const Received&)>& on_received,
                           const std::function<void(const std::string&)>& on_problem,
                           const std::function<void(const std::string&)>& on_following);

    // Devices (docs/devices.md). This profile's device: the id of its
    // certificate's key ("" before verification).
    std::string device_id() const;
    struct DeviceInfo {
        std::string id;
        int64_t added_ms = 0;
        std::string label;
        bool current = false;   // this profile
        bool new_here = false;  // added since this profile last looked
    };
    struct Devices {
        std::vector<DeviceInfo> devices;
        std::vector<std::string> removed;
    };
    // The user's devices, this one added to the list if it is missing.
    Result<Devices> devices();
    // Takes a device off the user's list for good: messages stop going to
    // it, and it cannot sign itself back in.
    Status remove_device(const std::string& id);
    // What to tell the user of a device added to their account elsewhere.
    std::string new_device_notice(const std::string& id) const;
    // What sends found to tell the user since the last call (a device added
    // to their account, which their copies now go to), each once.
    std::vector<std::string> take_notices();

    // The network's members, the least loaded first (those said to be
    // down last), from the node the client talks to.
    Result<std::vector<NodeInfo>> nodes();

    // One request with login, failing over between nodes. Refusals (a reply
    // with an error) are returned as their Status. A node that fails
    // mid-call is asked again through the next one, unless `once`: for a
    // request that may have taken effect before the node went quiet (a
    // verification code is spent once).
    Result<ClientFrame> call(const std::string& method, FrameParams params, bool login = true, bool once = false);
    // Several requests of one method at once, with login and failover (the
    // whole batch again through the next node if the node fails mid-way:
    // for requests that may be repeated). Each reply carries its own status.
    Result<std::vector<ClientFrame>> call_batch(const std::string& method, std::vector<FrameParams> params);

private:
    explicit Client(ClientOptions options, Profile profile);
    Status connect(bool login);
    // A session with `endpoint` that proved it is a member: the connection,
    // the member's node id, and the node's hello (which may advise a
    // redirect). `redirects`: how many this client followed to get here.
    struct Opened {
        std::unique_ptr<ClientConnection> conn;
        std::string node_id;
        ClientFrame hello;
    };
    Result<Opened> open_member(const std::string& endpoint, const std::shared_ptr<crypto::TlsCredentials>& credentials,
                               uint64_t redirects);
    // Follows the redirects a busy node advises, at most kMaxRedirects; a
    // target that cannot be reached leaves the client where it is.
    void follow_redirects(Opened& opened, const std::shared_ptr<crypto::TlsCredentials>& credentials);
    // The members as `conn`'s node lists them, checked against the roster.
    Result<std::vector<NodeInfo>> member_nodes(ClientConnection& conn);
    // Puts every member's endpoint in the failover list after the node in
    // use, the least loaded first; the nodes given before stay at its end.
    void learn_nodes();
    // At a new device's first login after verify(): one that finds no
    // device on the user's list is the first, and its (empty) privacy list
    // is the user's.
    void settle_first_device();
    // This device's privacy list is the user's, as their only device (the
    // first, or the one left): it holds it from now on.
    Status keep_privacy_as_only_device();
    // Brings the pinned roster up to date from `conn` (or pins it, on first
    // use) and checks that the node is one of its members: its node id.
    Result<std::string> authenticate(ClientConnection& conn);
    // The newest epoch number `conn`'s node holds, and its epoch `at` if any.
    Result<std::pair<uint64_t, std::optional<RosterEpoch>>> roster_epoch(ClientConnection& conn, uint64_t at);
    Result<uint64_t> publish(Record record);
    Result<OpenedRecord> fetch(RecordType type, const std::string& user_id, const std::string& locator = {});
    uint64_t next_sequence();
    Result<EndToEnd*> end_to_end();
    Result<MessageHistory*> history();
    // Several processes may use one profile (`inbox --follow` beside `send`):
    // each step that reads and writes the end-to-end state or the history
    // holds PROFILE/messages.lock, and reads in under it what others appended
    // to the history.
    Result<FileLock> lock_messages();
    // receive_messages() and publish_keys() for a caller that holds the lock.
    Result<Received> receive_locked(std::vector<std::string>* problems);
    Status publish_keys_locked();
    // Opens one message from the inbox; kept in `out` when it is new, and
    // its acknowledgement in `acks`.
    Status open_message(const std::string& encoded, Received& out, std::vector<std::string>& acks);
    // Opens messages, keeps the new ones in the history, acknowledges them,
    // and sends the delivery receipts owed. Returns what was new; how many
    // were acknowledged in `acked`.
    Result<Received> take_messages(const std::vector<std::string>& encoded, std::vector<std::string>* problems,
                                   size_t& acked);
    // A user's device list as the node hands it, checked here (the signer
    // listed, and no device this process saw removed back); an empty one
    // when the user has none. Kept for a short while unless `fresh`.
    struct ListedDevices {
        DeviceList list;
        uint64_t sequence = 0;  // of its record; 0 for none
    };
    Result<ListedDevices> device_list(const std::string& user_id, bool fresh = false);
    Status publish_device_list(DeviceList list, uint64_t after_sequence);
    // Puts this device on the user's list if it is missing, and writes the
    // list again when it is a week old (records expire): the list read
    // again once a process, or when `fresh`; kPermissionDenied if this
    // device was removed.
    Status list_this_device(bool fresh = false);
    // What this profile knows of its user's devices (PROFILE/devices.seen).
    struct SeenDevices {
        std::vector<std::string> ids;      // told to the user, and given the privacy list
        std::vector<std::string> removed;  // seen removed: they stay removed
        uint64_t sequence = 0;             // of the newest list seen
    };
    Result<SeenDevices> seen_devices();
    Status save_seen_devices(const SeenDevices& seen);
    // The devices on the user's list that this profile had not told of:
    // each gets the privacy list, and is then marked told. Needs the
    // messages lock.
    Result<std::vector<std::string>> take_new_devices(std::vector<std::string>* problems);
    // Makes sure a session with `device` of `user_id` can be used: its keys
    // checked against the one seen before (a change is refused) and, for a
    // contact's device not pinned, refused until 'trust'.
    Status prepare_device(const std::string& user_id, const std::string& device);
    // Accepts the keys of every device `user_id` lists now: on first
    // contact, and when the user trusts a change. What changed, newest first.
    Result<ContactKey> pin_devices(const std::string& user_id);
    // The message.send request of `content` for `device` of `user`,
    // encrypted to it (a session must exist).
    Result<FrameParams> message_request(const std::string& user, const std::string& device, const std::string& id,
                                        const MessageContent& content);
    // Sends the user's privacy list to their other devices (`devices`, or
    // every one listed), end to end; a device takes it if it is newer than
    // its own. Needs the messages lock.
    Status share_privacy(const std::vector<std::string>& devices);
    // Gives the node the profile's privacy list to enforce.
    Status give_privacy();
    // Sends the receipts of `state` owed (to `only`, or to everyone).
    Result<size_t> send_receipts(SentState state, const std::string& only = {});
    // The bundle of a device of the user from its record, and the record's
    // certificate, which must be the device's and in the user's issuance
    // log (kPermissionDenied if not).
    Result<std::pair<PreKeyBundle, crypto::UserCertificateInfo>> bundle_of(const std::string& user_id,
                                                                           const std::string& device);
    // Whether `certificate` (PEM) is in `user_id`'s issuance log, as this
    // client checks it (a member issues none in secret).
    Result<bool> in_issuance_log(const std::string& user_id, const std::string& certificate);
    // The issuance log as the node hands it, each certificate checked here.
    Result<std::vector<IssuedKey>> logged_keys(const std::string& user_id);
    // Encrypts `content` to every device of `to` (starting sessions if
    // needed) and, for a text or a file, a copy to this user's other
    // devices, and has each held. Nothing is sent if a device of `to` is
    // refused. Returns when the holders drop it undelivered (0: not said).
    Result<int64_t> send_content(const std::string& to, const std::string& id, const MessageContent& content);
    // A text or file went to the user's own devices too: one new to this
    // profile is told of now (take_notices()), not only at the next inbox.
    void note_new_devices();
    // Keeps the node in use first, then the others given, in the profile.
    void remember_nodes();
    // The node in use failed (`why`, kept for the error a login that finds
    // no other node gives): drop the connection and try it last from now on.
    void demote_current_node(const Status& why);

    ClientOptions options_;
    Profile profile_;
    std::unique_ptr<ClientConnection> connection_;
    std::shared_ptr<crypto::TlsCredentials> login_credentials_, anonymous_credentials_;
    bool logged_in_ = false;
    std::string node_id_;
    Status went_away_;  // why the last node in use was dropped
    std::optional<TrustedRoster> roster_;  // verified; from the profile or pinned on first use
    std::string scheme_ = "kontalk-sha1";
    std::unique_ptr<EndToEnd> e2e_;
    std::set<std::string> keys_checked_;  // contacts whose published key this process compared with the one seen
    std::optional<MessageHistory> history_;
    mutable std::string device_id_;
    bool listed_ = false;  // this process put or found this device on the list
    bool first_login_pending_ = false;  // verify() ran; settle_first_device() not yet
    std::vector<std::string> notices_;  // for take_notices()
    bool privacy_changed_ = false;  // another device's list came: give it to the node
    std::map<std::string, std::pair<std::chrono::steady_clock::time_point, ListedDevices>> device_lists_;
};

}  // namespace dhtalk::client
