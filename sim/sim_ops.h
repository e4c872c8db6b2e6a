#pragma once
// What an operator and a client do to whole simulated nodes (sim_nodes.h),
// shared by the simulated-network tests and benchmarks: found a network and
// admit members by vote, ask a node's front end and wait for its answer,
// register a user as `dhtalk register` and `dhtalk verify` do. Everything
// runs the network until it happens, in virtual time, with a bound.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <opendht/crypto.h>

#include "common/status.h"
#include "net/client_protocol.h"
#include "node/config.h"
#include "sim/sim_nodes.h"

namespace dhtalk {

// Runs the network until `session`'s request `id` on node `node` is
// answered: the answer (possibly an error frame), or kTimeout after `limit`.
Result<ClientFrame> sim_await(SimNodes& sim, size_t node, uint64_t session, uint64_t id,
                              std::chrono::milliseconds limit = std::chrono::seconds(60));
// Sends a request and waits for its answer, as sim_await.
Result<ClientFrame> sim_call(SimNodes& sim, size_t node, uint64_t session, const std::string& method,
                             FrameParams params, std::chrono::milliseconds limit = std::chrono::seconds(60));

// The node id (hex) of the identity in `identity_dir`.
std::string sim_node_id(const std::filesystem::path& identity_dir);
// Member `member`'s operator approves `change` ("admit" or "ban") of the
// node whose identity is in `subject_identity`.
Status sim_vote(SimNodes& sim, size_t member, const std::string& change, const std::string& subject_node_id);
// Whether slot i runs a member that has joined the overlay.
bool sim_is_member(SimNodes& sim, size_t i);
// Runs until the nodes in slots [0, count) have the same roster epoch
// (at most a virtual minute); whether they do.
bool sim_agree(SimNodes& sim, size_t count);
// Founds the network on slots [0, count): slot 0 with `base` as genesis,
// then each other applies to it and the members approve it until it is
// admitted, one after the other, each once every member has the epoch that
// admitted the one before.
Status sim_found(SimNodes& sim, size_t count, const NodeConfig& base,
                 const std::vector<std::filesystem::path>& identities);
// The same network from a prepared roster: the chain the vote would have
// built (slot 0 the founder, each other admitted in turn by the fewest
// approvals its rule needs, the ballots signed by the members' own keys),
// made here without the network and put in every slot's store; then every
// node starts as a member. What the members verify of it is what they
// verify of a roster they kept: nothing is taken on trust that a vote
// would have checked, but nobody waits for one. Skips founding's N^2.4.
Status sim_found_prepared(SimNodes& sim, size_t count, const NodeConfig& base,
                          const std::vector<std::filesystem::path>& identities);

struct SimUser {
    std::string user_id;
    std::shared_ptr<dht::crypto::PrivateKey> key;
    std::shared_ptr<dht::crypto::Certificate> certificate;
    std::string device_id;  // of the certificate's key: messages go to its inbox
};
// Registers `phone` through node `node`'s front end with `key`, from a
// client at `address`, as `dhtalk register` and `dhtalk verify` do (the code
// read from what the nodes sent). An address is allowed 10 attempts.
Result<SimUser> sim_register(SimNodes& sim, size_t node, const std::string& phone,
                             std::shared_ptr<dht::crypto::PrivateKey> key, const std::string& address);
// A session of `user` on node `node`, which gives its privacy list (everyone
// may reach them) as a client does on every login.
Result<uint64_t> sim_login(SimNodes& sim, size_t node, const SimUser& user, const std::string& address);

}  // namespace dhtalk
