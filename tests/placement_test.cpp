// Which members are responsible for a key (inbox holders here): the same on
// every node, spread evenly, and moving only what a departed member had.
#include "dht/placement.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "tests/doctest.h"

using namespace dhtalk;

namespace {

std::vector<std::string> members(int n) {
    std::vector<std::string> ids;
    for (int i = 0; i < n; ++i) ids.push_back("node" + std::to_string(i));
    return ids;
}

bool everyone(const std::string&) { return true; }

}  // namespace

TEST_CASE("every node computes the same holders, whatever order it lists the members in") {
    auto a = members(10);
    auto b = a;
    std::reverse(b.begin(), b.end());
    for (int u = 0; u < 50; ++u) {
        const std::string user = "user" + std::to_string(u);
        CHECK(rank_members("inbox", user, a) == rank_members("inbox", user, b));
        auto holders = inbox_holders(user, a, kInboxHolders, everyone);
        REQUIRE(holders.size() == kInboxHolders);
        CHECK(holders[0] != holders[1]);
    }
    CHECK(rank_members("inbox", "user", {"n1", "n1", "n2"}).size() == 2);
    CHECK(inbox_holders("user", {}, 2, everyone).empty());
}

TEST_CASE("inboxes spread evenly over the members") {
    const auto ids = members(10);
    std::map<std::string, int> held;
    const int users = 10000;
    for (int u = 0; u < users; ++u)
        for (const auto& h : inbox_holders("user" + std::to_string(u), ids, kInboxHolders, everyone)) held[h]++;
    REQUIRE(held.size() == ids.size());
    const double mean = 2.0 * users / static_cast<double>(ids.size());
    double var = 0;
    for (const auto& [id, n] : held) var += (n - mean) * (n - mean);
    const double cv = std::sqrt(var / static_cast<double>(ids.size())) / mean;
    INFO("coefficient of variation " << cv);
    CHECK(cv < 0.05);  // a binomial spread of 2,000 per node gives about 0.02
}

TEST_CASE("a member that is down is passed over, and only the inboxes it held move") {
    const auto ids = members(10);
    const std::string down = "node3";
    auto alive = [&](const std::string& id) { return id != down; };
    int moved = 0, held_by_down = 0;
    for (int u = 0; u < 2000; ++u) {
        const std::string user = "user" + std::to_string(u);
        auto before = inbox_holders(user, ids, kInboxHolders, everyone);
        auto after = inbox_holders(user, ids, kInboxHolders, alive);
        REQUIRE(after.size() == kInboxHolders);
        CHECK(std::find(after.begin(), after.end(), down) == after.end());
        const bool had = std::find(before.begin(), before.end(), down) != before.end();
        held_by_down += had;
        if (before != after) {
            moved++;
            CHECK(had);
            // The other holder stays; the next member in the order steps in.
            auto ranked = rank_members("inbox", user, ids);
            CHECK(after[1] == ranked[2]);
        }
    }
    CHECK(moved == held_by_down);
    CHECK(held_by_down > 0);
    auto few = inbox_holders("user", {"a", "b"}, 3, [](const std::string& id) { return id == "b"; });
    CHECK(few == std::vector<std::string>{"b"});
}

TEST_CASE("chunks go to members in proportion to the space they offer, and only the lost member's move") {
    std::vector<std::pair<std::string, double>> offers{{"small", 100}, {"medium", 300}, {"large", 600}, {"none", 0}};
    std::map<std::string, int> first;
    const int keys = 20000;
    for (int k = 0; k < keys; ++k) {
        auto ranked = rank_weighted("media", "chunk" + std::to_string(k), offers);
        REQUIRE(ranked.size() == 3);  // a member offering nothing holds nothing
        ++first[ranked[0]];
        // The same ranking whatever the order given.
        auto reversed = offers;
        std::reverse(reversed.begin(), reversed.end());
        if (k < 100) CHECK(rank_weighted("media", "chunk" + std::to_string(k), reversed) == ranked);
    }
    // Shares of 10%, 30%, 60%: within 1.5 points of each on 20,000 keys.
    CHECK(std::abs(first["small"] / double(keys) - 0.1) < 0.015);
    CHECK(std::abs(first["medium"] / double(keys) - 0.3) < 0.015);
    CHECK(std::abs(first["large"] / double(keys) - 0.6) < 0.015);
    // Without "large", a key keeps its order among the others.
    const std::vector<std::pair<std::string, double>> fewer{{"small", 100}, {"medium", 300}};
    for (int k = 0; k < 200; ++k) {
        auto all = rank_weighted("media", "chunk" + std::to_string(k), offers);
        all.erase(std::remove(all.begin(), all.end(), "large"), all.end());
        CHECK(rank_weighted("media", "chunk" + std::to_string(k), fewer) == all);
    }
}
