#pragma once
// What a simulated client that follows its inbox keeps, as `dhtalk inbox
// --follow` does: the messages it has seen, so that a copy handed over
// again (after a failover, a repair) is dropped, and those it still has to
// acknowledge. Shared by the simulation's workloads.

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "net/inbox_message.h"

namespace dhtalk {

struct InboxFollower {
    std::vector<std::string> to_ack;  // "sender/id", for inbox.ack
    std::set<std::string> seen;       // "sender/id" of each message handed over
    size_t repeats = 0;               // copies handed over after the first

    // A copy handed over (pushed or fetched): the message's id if it is the
    // first copy of it; nullopt for a repeat or bytes that do not decode.
    std::optional<std::string> take(const std::string& encoded) {
        auto m = decode_inbox_message(encoded);
        if (!m) return std::nullopt;
        const std::string ref = m->sender + "/" + m->id;
        to_ack.push_back(ref);
        if (!seen.insert(ref).second) {
            ++repeats;
            return std::nullopt;
        }
        return m->id;
    }
};

}  // namespace dhtalk
