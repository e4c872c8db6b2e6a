#pragma once
// The signed documents of the trusted network (docs/trust.md): the roster
// epochs (epoch 0 is the genesis), applications to join, ballots, and
// members' member updates. Each is
// encoded as msgpack `[format_version, body, signature]`, where `body` is the
// msgpack of the fields and `signature` the author's RSA signature over the
// body's bytes. Decoding treats its input as hostile: bounded sizes and
// counts, version first, every field type-checked; it checks no signature
// (roster_rules.h does). Plain values; no shared state.

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace dhtalk {

// 2: epochs commit to their key (key_digest).
// 3: members name their fast key (Member::fast_key).
// 4: members advertise where clients reach them and the space they offer
//    for media (Member::advert).
// Older formats are refused.
inline constexpr uint32_t kRosterFormatVersion = 4;
// A roster of kMaxMembers with RSA-3072 certificates, their sealed keys and
// a two-thirds quorum's ballots takes about 500 KiB, so members' adverts
// and contacts have room to grow. Nodes built before the bound was raised
// from 100 refuse an epoch of more members (no format change: the
// encoding is the same).
inline constexpr size_t kMaxDocumentBytes = 1 << 20;
inline constexpr size_t kMaxMembers = 200;
inline constexpr size_t kMaxRevoked = kMaxMembers;  // banned ids an epoch can list
inline constexpr size_t kMaxEndpoints = 8;
inline constexpr size_t kMaxTextBytes = 256;  // contact, reason, endpoint, network name

enum class QuorumRule : uint8_t { kMajority = 0, kTwoThirds = 1 };
enum class ChangeKind : uint8_t { kGenesis = 0, kAdmit = 1, kBan = 2 };
enum class Decision : uint8_t { kApprove = 0, kReject = 1 };

const char* quorum_rule_name(QuorumRule r);
Result<QuorumRule> parse_quorum_rule(std::string_view name);

struct NetworkSettings {
    std::string name;
    QuorumRule quorum = QuorumRule::kMajority;
    std::string user_id_scheme = "kontalk-sha1";
    bool operator==(const NetworkSettings&) const = default;
};

// What a member says of itself beyond its identity, which it may change by
// a MemberUpdate without a vote.
struct MemberAdvert {
    // HOST:PORT of its client front end (docs/protocol.md), where `dhtalk`
    // finds it; may be empty (a member that serves no clients).
    std::vector<std::string> client_endpoints;
    // MiB of disk it holds media chunks in for the network; 0: none
    // (docs/media.md: chunks are placed by this weight).
    uint32_t media_offer_mib = 0;
    bool operator==(const MemberAdvert&) const = default;
};

struct Member {
    std::string node_id;      // hex public-key id of `certificate`
    std::string certificate;  // PEM
    std::vector<std::string> endpoints;  // HOST:PORT of its DHT socket
    std::string contact;      // how to reach its operator
    // The raw Ed25519 public key (crypto/fast_key.h) the node signs presence
    // with and presents in TLS; certified by the node's own signature on
    // the document that brought it into the roster (its application, or
    // the genesis it founded).
    std::string fast_key;
    MemberAdvert advert;  // as of its admission (or founding)
    bool operator==(const Member&) const = default;
};

struct Application {
    uint32_t network_id = 0;
    Member applicant;
    int64_t created_at_s = 0;
    std::string signature;  // by the applicant
};

struct Ballot {
    uint32_t network_id = 0;
    uint64_t epoch = 0;  // the epoch the ballot is cast in
    std::string voter;   // node id
    ChangeKind change = ChangeKind::kAdmit;
    std::string subject;  // node id admitted or banned
    Decision decision = Decision::kApprove;
    std::string reason;
    std::string signature;  // by the voter
};

// A member's new advert, signed by the member alone: where clients reach
// it and what it offers change without a vote (a port chosen at start, a
// new address, more disk). The newest serial wins; a roster lists a
// member's advert as of its admission.
struct MemberUpdate {
    uint32_t network_id = 0;
    std::string node_id;
    uint64_t serial = 0;  // larger in each newer update (the author's clock in ms)
    MemberAdvert advert;
    std::string signature;  // by node_id
};

struct SealedEpochKey {
    std::string node_id;
    std::string sealed;  // the epoch key, encrypted to that member's key
};

struct RosterEpoch {
    uint32_t network_id = 0;  // 0 in the genesis, which defines it
    uint64_t epoch = 0;
    std::string prev_hash;  // SHA-256 of the previous epoch's encoding; empty in the genesis
    NetworkSettings settings;
    std::vector<Member> members;  // sorted by node id
    std::vector<std::string> revoked;  // banned node ids, sorted
    ChangeKind change = ChangeKind::kGenesis;
    std::string subject;  // node id admitted or banned; the founder in the genesis
    std::vector<Ballot> ballots;  // the approvals that carried the change
    std::vector<SealedEpochKey> keys;  // one per member
    // SHA-256 of "dhtalk epoch key\n" and the epoch key: what every sealed
    // copy must open to, so no assembler can hand one member another key.
    std::string key_digest;
    std::string assembler;  // node id of the member that assembled and signed it
    std::string signature;

    const Member* member(std::string_view node_id) const;
};

// Encodings: encode_* writes the whole document (body + signature);
// body_of_* the bytes that are signed.
std::string body_of(const Application& a);
std::string body_of(const Ballot& b);
std::string body_of(const RosterEpoch& e);
std::string body_of(const MemberUpdate& u);
std::string encode(const Application& a);
std::string encode(const Ballot& b);
std::string encode(const RosterEpoch& e);
std::string encode(const MemberUpdate& u);

Result<Application> decode_application(std::string_view bytes);
Result<Ballot> decode_ballot(std::string_view bytes);
Result<RosterEpoch> decode_roster_epoch(std::string_view bytes);
Result<MemberUpdate> decode_member_update(std::string_view bytes);

}  // namespace dhtalk
