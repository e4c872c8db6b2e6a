#pragma once
// ClientService: what the client front end does with each request
// (docs/protocol.md): hello, register and verify (registration and user
// certificates), put and get (records in the DHT), privacy.set, presence,
// and messages (message.send, inbox.fetch, inbox.ack and inbox.follow,
// through the inbox service: inbox_service.h). Logins are checked against the current members
// (any member's users may log in here: that is failover). Every record a
// client publishes is checked by the RecordValidator before it is kept and
// put into the DHT; every record a get returns is checked again on its way
// out.
//
// Registration goes through the Registrar (registrar.h): the number's
// registrar sends and checks its code, this node issues the certificate.
//
// Threads: handle() and authenticate() run on the front end's I/O thread;
// DHT callbacks on OpenDHT's; the registrar's workers finish registrations,
// so that a slow SMS gateway or a slow member blocks no one. Replies are
// thread-safe.

#include <atomic>
#include <functional>
#include <optional>
#include <map>
#include <set>
#include <memory>
#include <mutex>

#include "common/clock.h"
#include "common/rate_limiter.h"
#include "crypto/node_identity.h"
#include "dht/record_dht.h"
#include "dht/record_validator.h"
#include "node/front/client_server.h"
#include "node/gossip/gossip_service.h"
#include "node/front/inbox_service.h"
#include "node/front/load_spread.h"
#include "node/front/media_service.h"
#include "node/front/registrar.h"
#include "node/front/user_records.h"
#include "node/front/verification_sender.h"

namespace dhtalk {

class IssuanceLedger;

struct ClientServiceConfig {
    std::string user_id_scheme = "kontalk-sha1";
    std::string network_name;
    RegistrationLimits limits;
    size_t max_queued_codes = 256;  // registrations waiting for the verification provider or another member
    // The node's Store: registration limits and the messages this node
    // holds as an inbox holder outlive a restart there. Required.
    Store* store = nullptr;
    // Where this node counts the certificates it issues (with those it
    // stores for the network); null: not counted.
    IssuanceLedger* ledger = nullptr;
    InboxConfig inbox;
    double messages_per_second = 20;  // per sender, with a burst of twice that
    // Where the registrar's workers run and how it reaches other members;
    // both must outlive the service.
    Drivers* drivers = nullptr;
    PeerNet* peer_net = nullptr;
    uint64_t seed = 0;  // draws the member a busy node sends a login to
    uint64_t max_file_bytes = 100ull << 20;  // an attachment's size, as its uploader declares it
    // Sessions this node holds (its capacity, as the members hear it) and
    // above how many a login is sent on to a member with room.
    uint32_t session_capacity = 10000;
    uint32_t redirect_above = 8000;
};

class ClientService final : public ClientHandler {
public:
    // Every reference must outlive the service. `records_dht` answers the
    // network's records now (the overlay), or null while the node is not in
    // the network.
    ClientService(ClientServiceConfig config, const crypto::NodeIdentity& identity,
                  std::shared_ptr<const RecordValidator> validator, UserRecords& records,
                  std::function<RecordDht*()> records_dht, std::unique_ptr<VerificationSender> sender,
                  const Clock& clock);
    ~ClientService() override;

    // Puts every kept record into the DHT again (after the overlay starts).
    // Returns how many; expired ones are dropped.
    size_t republish();

    // Presence for logged-in users, and the way to push frames to their
    // sessions. Both must outlive the service; set before the front end starts.
    void attach_presence(GossipService* presence, std::function<void(uint64_t, ClientFrame)> push);
    // The roster chain, for clients to verify. Set before the front end starts.
    struct RosterView {
        uint64_t current = 0;               // the newest epoch's number
        std::optional<std::string> epoch;   // the encoded epoch asked for, if there is one
    };
    void attach_roster(std::function<RosterView(uint64_t epoch)> roster) { roster_ = std::move(roster); }
    // The other members' load and where clients reach them (asked only by
    // the `nodes` request and when this node is over its threshold), and
    // the member updates this node holds, encoded, for clients to check.
    // Set before the front end starts; unset, this node lists only itself
    // and keeps every login.
    void attach_network(std::function<std::vector<MemberRoom>()> others,
                        std::function<std::vector<std::string>()> member_updates) {
        others_ = std::move(others);
        member_updates_ = std::move(member_updates);
    }
    // The media chunks' service (media.put, media.get); must outlive this.
    // Unset, media requests are refused. Set before the front end starts.
    void attach_media(MediaService* media) { media_ = media; }
    // The registrar's side, for the peer service, and the members it ranks
    // (set before the front end starts; unset, this node registers every number).
    RegistrarHandler* registrar() { return &registrar_; }
    InboxService& inbox() { return inbox_; }
    void attach_registrars(std::function<std::vector<RegistrarPeer>()> members) {
        registrar_.attach_members(std::move(members));
    }
    // A presence for a local watcher: pushed to each of the watcher's sessions that watch the user.
    void deliver(const PresenceDelivery& d);

    Result<crypto::UserCertificateInfo> authenticate(const dht::crypto::Certificate& cert) override;
    Status recheck(const crypto::UserCertificateInfo& user) override;
    void handle(const ClientSession& session, const ClientFrame& request, ClientReply reply) override;
    void opened(const ClientSession& session) override;
    void closed(const ClientSession& session) override;

private:
    void hello(const ClientSession& s, const ClientFrame& f, ClientReply reply);
    void roster(const ClientFrame& f, ClientReply reply);
    void nodes(const ClientFrame& f, ClientReply reply);
    // This node's load as its members hear it: its open sessions, its capacity.
    MemberLoad own_load() const;
    void register_number(const ClientSession& s, const ClientFrame& f, ClientReply reply);
    void verify(const ClientSession& s, const ClientFrame& f, ClientReply reply);
    // Replies to a verified registration: a certificate for `csr`, kept,
    // and published in the user's issuance log first.
    void issue_certificate(const std::string& user_id, const std::string& csr, ClientReply reply);
    // Counts a certificate this node issued in its issuance ledger.
    void count_issued(const std::string& pem);
    void put(const ClientSession& s, const ClientFrame& f, ClientReply reply);
    // Erases the user's kept records that expired or no longer open; how many.
    size_t drop_expired_records(const std::string& user_id);
    void get(const ClientSession& s, const ClientFrame& f, ClientReply reply);
    // The certificates in a user's issuance log (dht/issuance_log.h) that
    // check, newest first, at most kMaxIssuedPerUser.
    void issued(const ClientSession& s, const ClientFrame& f, ClientReply reply);
    void set_privacy(const ClientSession& s, const ClientFrame& f, ClientReply reply);
    void presence_request(const ClientSession& s, const ClientFrame& f, ClientReply reply);
    // Messages (client_messages.cpp).
    void send_message(const ClientSession& s, const ClientFrame& f, ClientReply reply);
    void fetch_inbox(const ClientSession& s, const ClientFrame& f, ClientReply reply);
    void acknowledge_inbox(const ClientSession& s, const ClientFrame& f, ClientReply reply);
    void follow_inbox(const ClientSession& s, const ClientFrame& f, ClientReply reply);
    // Media chunks (client_media.cpp).
    void media_request(const ClientSession& s, const ClientFrame& f, ClientReply reply);
    // New messages for a local user: pushed to each of the user's sessions that follow the inbox.
    void deliver_messages(const std::string& recipient, std::vector<InboxMessage> messages);
    // The inbox of a logged-in session's device (net/inbox_message.h).
    static std::string inbox_of(const ClientSession& s);
    // Removes from `messages` those the recipient's privacy list refuses, and
    // returns them: a blocked sender's message never reaches the client.
    std::vector<InboxMessage> refused_by_privacy(const std::string& recipient, std::vector<InboxMessage>& messages);
    static Status need_login(const ClientSession& s);
    void publish(const dht::InfoHash& key, RecordType type, const std::string& envelope,
                 std::function<void(bool)> done);

    // Gets in flight, by key, and the replies waiting for each. Shared with
    // OpenDHT's callbacks, which may run after the service is gone.
    struct Lookups {
        std::mutex mutex;
        std::map<dht::InfoHash, std::vector<ClientReply>> waiting;  // guarded by mutex
    };

    ClientServiceConfig config_;
    const crypto::NodeIdentity& identity_;
    std::shared_ptr<const RecordValidator> validator_;
    UserRecords& records_;
    std::function<RecordDht*()> records_dht_;
    std::function<RosterView(uint64_t)> roster_;
    std::function<std::vector<MemberRoom>()> others_;
    std::function<std::vector<std::string>()> member_updates_;
    MediaService* media_ = nullptr;
    std::atomic<uint32_t> open_sessions_{0};  // anonymous ones too: the load this node reports
    std::mutex redirect_mutex_;
    Rng redirect_rng_;  // guarded by redirect_mutex_
    RedirectCounts redirects_sent_;  // guarded by redirect_mutex_
    const Clock& clock_;
    std::shared_ptr<Lookups> lookups_ = std::make_shared<Lookups>();
    RateLimiter message_rate_;  // per sender

    GossipService* presence_ = nullptr;
    std::function<void(uint64_t, ClientFrame)> push_;
    std::mutex sessions_mutex_;
    std::map<std::string, std::set<uint64_t>> sessions_of_;  // guarded by sessions_mutex_: logged-in user -> sessions
    std::map<uint64_t, std::set<std::string>> watches_;      // guarded by sessions_mutex_: session -> users it watches
    std::map<std::string, std::set<uint64_t>> inbox_followers_;  // guarded by sessions_mutex_: inbox address -> sessions that follow
    // guarded by sessions_mutex_: the privacy list each logged-in user's
    // client gave (privacy.set), while one of the user's sessions is open.
    // Applied to presence and to the messages handed to the user.
    // With the time the user set it (`set_ms`, from the client) and the
    // device that gave it: another device whose list is older does not
    // replace it.
    struct HeldPrivacy {
        PrivacyList list;
        uint64_t set_ms = 0;
        std::string device;
    };
    std::map<std::string, HeldPrivacy> privacy_of_;

    // Last: destroyed first, their workers stopped while what they call is whole.
    InboxService inbox_;
    Registrar registrar_;
};

}  // namespace dhtalk
