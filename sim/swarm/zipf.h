#pragma once
// Who is popular in a dhtalk-swarm workload: users drawn with Zipf weights,
// rank r (a random order of the users, from the run's Rng) weighing
// 1 / r^exponent; exponent 0 draws uniformly.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include "common/rng.h"

namespace dhtalk {

class Zipf {
public:
    Zipf(size_t n, double exponent, Rng& rng) : cdf_(n), user_of_rank_(n) {
        double sum = 0;
        for (size_t r = 0; r < n; ++r) cdf_[r] = sum += 1.0 / std::pow(static_cast<double>(r + 1), exponent);
        for (auto& c : cdf_) c /= sum;
        for (size_t r = 0; r < n; ++r) user_of_rank_[r] = r;
        for (size_t r = n; r > 1; --r) std::swap(user_of_rank_[r - 1], user_of_rank_[rng.uniform(r)]);
    }
    size_t draw(Rng& rng) const {
        const auto it = std::lower_bound(cdf_.begin(), cdf_.end(), rng.uniform01());
        return user_of_rank_[std::min<size_t>(static_cast<size_t>(it - cdf_.begin()), cdf_.size() - 1)];
    }

private:
    std::vector<double> cdf_;
    std::vector<size_t> user_of_rank_;
};

}  // namespace dhtalk
