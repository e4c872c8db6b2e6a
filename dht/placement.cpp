#include "dht/placement.h"

#include <algorithm>
#include <cmath>
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

std::vector<std::string> rank_weighted(std::string_view purpose, std::string_view key,
                                       const std::vector<std::pair<std::string, double>>& members) {
    std::string prefix = "dhtalk ";
    prefix.append(purpose).append(1, '\0').append(key).append(1, '\0');
    std::vector<std::pair<double, std::string>> scored;
    for (const auto& [id, weight] : members) {
        if (!(weight > 0)) continue;
        const std::string h = crypto::sha256(prefix + id);
        uint64_t x = 0;
        for (int i = 0; i < 8; ++i) x = (x << 8) | static_cast<uint8_t>(h[static_cast<size_t>(i)]);
        // u in (0, 1): never 0 (ln 0) nor 1 (a score of infinity).
        const double u = (static_cast<double>(x >> 11) + 0.5) / 9007199254740992.0;  // 2^53
        scored.emplace_back(-weight / std::log(u), id);
    }
    std::sort(scored.begin(), scored.end(), std::greater<>());
    std::vector<std::string> ranked;
    for (auto& [score, id] : scored)
        if (std::find(ranked.begin(), ranked.end(), id) == ranked.end()) ranked.push_back(std::move(id));
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
