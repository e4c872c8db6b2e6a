#include "dht/placement.h"

#include <algorithm>
#include <utility>

#include "crypto/signing.h"

namespace dhtalk {

std::vector<std::string> rank_members(std::string_view purpose, std::string_view key,
                                      std::vector<std::string> member_ids) {
    // The separators keep ("ab", "c") and ("a", "bc") apart.
    std::string prefix = "dhtalk ";
    prefix.append(purpose).append(1, '\0').append(key).append(1, '\0');
    std::vector<std::pair<std::string, std::string>> scored;  // score, node id
    scored.reserve(member_ids.size());
    for (auto& id : member_ids) scored.emplace_back(crypto::sha256(prefix + id), std::move(id));
    // Highest first; equal scores (the same id twice) sort by id, so the
    // order never depends on the order given.
    std::sort(scored.begin(), scored.end(), std::greater<>());
    std::vector<std::string> ranked;
    ranked.reserve(scored.size());
    for (auto& [score, id] : scored)
        if (ranked.empty() || ranked.back() != id) ranked.push_back(std::move(id));
    return ranked;
}

std::vector<std::string> inbox_holders(std::string_view recipient, const std::vector<std::string>& member_ids,
                                       size_t count, const std::function<bool(const std::string&)>& alive) {
    std::vector<std::string> holders;
    for (auto& id : rank_members("inbox", recipient, member_ids)) {
        if (holders.size() == count) break;
        if (alive(id)) holders.push_back(std::move(id));
    }
    return holders;
}

}  // namespace dhtalk
