#include "node/front/load_spread.h"

namespace dhtalk {

std::optional<size_t> choose_redirect(const MemberLoad& own, uint32_t threshold,
                                      const std::vector<MemberRoom>& others, Rng& rng) {
    if (own.sessions <= threshold || own.capacity == 0) return std::nullopt;
    const double mark = static_cast<double>(threshold) / own.capacity;
    std::vector<double> room(others.size(), 0.0);
    double total = 0;
    for (size_t i = 0; i < others.size(); ++i) {
        const MemberLoad& m = others[i].load;
        if (m.state != "alive" || others[i].endpoint.empty() || m.capacity == 0) continue;
        room[i] = mark * m.capacity - m.sessions;  // sessions it can take before it is as full
        if (room[i] < 1) room[i] = 0;
        total += room[i];
    }
    if (total <= 0) return std::nullopt;
    double draw = rng.uniform01() * total;
    for (size_t i = 0; i < others.size(); ++i) {
        if (room[i] == 0) continue;
        if (draw < room[i]) return i;
        draw -= room[i];
    }
    for (size_t i = others.size(); i-- > 0;)  // rounding left the draw past the end
        if (room[i] > 0) return i;
    return std::nullopt;
}

void RedirectCounts::adjust(std::vector<MemberRoom>& others) {
    std::map<std::string, Count> kept;
    for (auto& m : others) {
        Count c = counts_.count(m.load.node_id) ? counts_[m.load.node_id] : Count{m.load.sessions, 0};
        if (c.reported != m.load.sessions) c = {m.load.sessions, 0};  // a new report: it counts them now
        m.load.sessions += c.sent;
        kept[m.load.node_id] = c;
    }
    counts_ = std::move(kept);
}

void RedirectCounts::sent(const std::string& node_id) {
    if (auto it = counts_.find(node_id); it != counts_.end()) ++it->second.sent;
}

}  // namespace dhtalk
