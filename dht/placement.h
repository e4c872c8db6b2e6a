#pragma once
// Placement: which members are responsible for a key, computed the same way
// on every node from the roster with no coordination (rendezvous hashing).
// Every member gets a score from the key and its own node id (SHA-256 of a
// purpose, the key and the id); the highest scores are responsible. So keys
// spread evenly over the members, and when a member leaves or is down only
// the keys it had move, each to the next member in that key's own order.
// Used for a number's registrars (node/front/registrar.h) and a user's inbox
// holders (docs/messaging.md). Media chunks are placed the same way with
// each member weighted by the space it offers (docs/media.md). Thread-safe,
// no state.

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dhtalk {

// How many members hold each inbox: a message is "stored" once this many
// hold it on disk, so it survives the loss of any one of them.
inline constexpr size_t kInboxHolders = 2;

// How many members hold each media chunk: it survives the loss of any one.
inline constexpr size_t kChunkHolders = 2;

// `member_ids` (duplicates dropped), the best for `key` first. `purpose`
// ("inbox", "registrar") gives each use an order of its own.
std::vector<std::string> rank_members(std::string_view purpose, std::string_view key,
                                      std::vector<std::string> member_ids);

// The first `count` members in `recipient`'s inbox order for which `alive`
// is true: a member that is down is passed over for the next one. Fewer
// when fewer are alive.
std::vector<std::string> inbox_holders(std::string_view recipient, const std::vector<std::string>& member_ids,
                                       size_t count, const std::function<bool(const std::string&)>& alive);

// Weighted rendezvous hashing: the members with a weight above 0, the best
// for `key` first, where a member comes first for a share of all keys equal
// to its share of the total weight (each draws a uniform u from the hash
// and scores -weight / ln u; the highest score wins).
std::vector<std::string> rank_weighted(std::string_view purpose, std::string_view key,
                                       const std::vector<std::pair<std::string, double>>& members);

}  // namespace dhtalk
