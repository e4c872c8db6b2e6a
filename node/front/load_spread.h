#pragma once
// Spreading logins over the members (docs/protocol.md, "Load"): a node
// above its session threshold answers a login with a redirect to a member
// that has more room, which it knows from the membership protocol (every
// probe carries the sender's sessions and capacity). Pure; thread-safe
// given its own Rng.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/rng.h"
#include "net/member_load.h"

namespace dhtalk {

struct MemberRoom {
    MemberLoad load;
    std::string endpoint;  // where its clients connect; empty: it serves none
};

// Which of `others` a new login should go to instead of this node, or
// nullopt to keep it here: only when this node holds more than `threshold`
// sessions, and only to a member that is alive, names a client endpoint and
// is less used than this node's threshold (threshold / own capacity). One
// is drawn with odds in proportion to its room below that mark, so that a
// burst of logins spreads over the members instead of all landing on the
// emptiest before the next probe tells of its new load.
std::optional<size_t> choose_redirect(const MemberLoad& own, uint32_t threshold,
                                      const std::vector<MemberRoom>& others, Rng& rng);

// The logins a node sent to each member since that member last reported
// its load. A member reports once per membership period; logins sent
// meanwhile are counted on top of what it reported, so that a burst does
// not pile onto the member that looked emptiest at its last report. Not
// thread-safe.
class RedirectCounts {
public:
    // Adds to each member's reported sessions what was sent to it since the
    // report changed; forgets members no longer listed.
    void adjust(std::vector<MemberRoom>& others);
    void sent(const std::string& node_id);

private:
    struct Count {
        uint32_t reported = 0;  // the sessions it reported when counting began
        uint32_t sent = 0;
    };
    std::map<std::string, Count> counts_;
};

}  // namespace dhtalk
