#pragma once
// Registrar: who sends a number its verification code and checks it.
//
// In a network with a roster each number has one registrar: the member
// ranked first for its user id by rendezvous hashing (SHA-256 of user id
// and node id, highest first), so every member computes the same one and a
// change of roster moves only the numbers of the members that came or went.
// A code is verified only where it was sent, so a number's limits
// (registration.h) hold network-wide: guesses made through every node count
// against one budget. A member serving a client passes the request on to
// the registrar over the peer service (POST /v1/registrar,
// registrar_messages.h), signed by itself, with the number or the code
// sealed to the registrar; the registrar answers with a signed verdict that
// names the request. When the registrar cannot have heard the request (no
// connection, or it answered busy), the member ranked second stands in, so a
// number's guesses have two budgets, not one per member; a code sent by one
// is verified only by the same one. The serving member also counts every
// request it passes on against the client's address. A network without a
// roster has one registrar: this node.
//
// Threads: request_code() and check_code() are called from the front end's
// thread, and `done` runs on one of the two workers (codes to the SMS
// provider, requests to other members) or at once; on_registrar_request()
// runs on the peer service's threads. One mutex guards the registrations
// and the replay set; `done` is never called with it held. After stop() the
// workers run nothing more (what was queued is dropped, its `done` uncalled).

#include <chrono>
#include <functional>
#include <deque>
#include <set>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <opendht/crypto.h>

#include "common/clock.h"
#include "common/status.h"
#include "common/worker.h"
#include "crypto/node_identity.h"
#include "node/trust/peer_service.h"
#include "node/front/registrar_messages.h"
#include "node/front/registration.h"
#include "node/front/verification_sender.h"

namespace dhtalk {

struct RegistrarPeer {
    std::string node_id;
    std::string endpoint;  // HOST:PORT of its peer service
    std::string fast_key;  // Ed25519: its verdicts are signed with it, numbers and codes sealed to it
};

// The members that may be registrar of `user_id`, best first, at most `count`.
std::vector<RegistrarPeer> rank_registrars(const std::string& user_id, std::vector<RegistrarPeer> members,
                                           size_t count);

inline constexpr size_t kRegistrarCandidates = 2;  // the registrar and its stand-in

struct RegistrarConfig {
    RegistrationLimits limits;
    std::string user_id_scheme = "kontalk-sha1";
    uint32_t network_id = 0;
    size_t max_queued = 256;  // jobs waiting for each worker
    Store* store = nullptr;   // keeps the limits across restarts
    // A request sent further than this from the registrar's clock is refused;
    // requests are remembered this long to refuse a replay.
    std::chrono::seconds max_skew{300};
};

class Registrar final : public RegistrarHandler {
public:
    using Done = std::function<void(Status)>;

    // `identity`, `clock`, `drivers` (the workers' turns) and `net` (the way
    // to other members' registrars) must outlive it.
    Registrar(RegistrarConfig config, const crypto::NodeIdentity& identity, std::unique_ptr<VerificationSender> sender,
              const Clock& clock, Drivers& drivers, PeerNet& net);
    ~Registrar() override { stop(); }

    // The current members, with this node among them. Unset (or empty), this
    // node is every number's registrar. Set before the first request.
    void attach_members(std::function<std::vector<RegistrarPeer>()> members) { members_ = std::move(members); }

    // Has a code sent to `e164` (whose user id is `user_id`), asked for by a
    // client at `address`: done(ok) once the provider took it (here) or the
    // registrar did, else the reason.
    void request_code(const std::string& e164, const std::string& user_id, const std::string& address, Done done);
    // Checks and consumes the code for `user_id`: done(ok) if it is right.
    void check_code(const std::string& user_id, const std::string& code, const std::string& address, Done done);

    uint64_t code_lifetime_s() const { return static_cast<uint64_t>(config_.limits.code_lifetime.count()); }
    // Drops expired codes and attempts, in memory and in the store.
    void forget_stale();
    // Ends the workers; later requests fail.
    void stop();

    // RegistrarHandler: a request from another member.
    Result<std::string> on_registrar_request(std::string_view request) override;

private:
    // What a member answered: `reached` false when it could not be asked
    // (then the stand-in is), else its verdict or why it does not hold.
    struct Answer {
        bool reached = false;
        Status status;
    };
    std::vector<RegistrarPeer> registrars_for(const std::string& user_id) const;
    Answer ask(const RegistrarPeer& peer, RegistrarRequest::Kind kind, const std::string& user_id,
               const std::string& address, const std::string& secret);
    // Passes the request to the first registrar that can hear it (this node
    // included), after counting it against the client's address here.
    void pass_on(std::vector<RegistrarPeer> registrars, RegistrarRequest::Kind kind, const std::string& user_id,
                 const std::string& address, const std::string& secret, Done done);
    // The registrar's own work.
    Status send_code_here(const std::string& e164, const std::string& user_id, const std::string& address, Done done);
    Status check_code_here(const std::string& user_id, const std::string& code, const std::string& address);
    Status refuse_replay(const std::string& name, WallTime now);  // mutex_ held: name is "from/nonce"

    RegistrarConfig config_;
    const crypto::NodeIdentity& identity_;
    const std::string self_;
    std::unique_ptr<VerificationSender> sender_;
    const Clock& clock_;
    PeerNet& net_;
    std::function<std::vector<RegistrarPeer>()> members_;
    mutable std::mutex mutex_;
    Registrations registrations_;                 // guarded by mutex_
    // Guarded by mutex_: the requests heard ("from/nonce"), and when each is forgotten.
    std::set<std::string> recent_;
    std::deque<std::pair<WallTime, std::string>> recent_order_;
    Worker sms_;                                  // codes to the provider
    Worker peers_;                                // requests to other members
};

}  // namespace dhtalk
