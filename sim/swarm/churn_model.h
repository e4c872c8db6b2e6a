#pragma once
// How long a node stays up, and down: the session-time distributions of
// churn studies, each given by its median and a shape, drawn from the run's
// seeded Rng so that a scenario replays. Weibull (shape k), Pareto (shape
// alpha, heavy-tailed), log-normal (shape sigma) and exponential (no shape;
// for comparison only: measured sessions are not memoryless).

#include <optional>
#include <string>

#include "common/rng.h"
#include "common/status.h"

namespace dhtalk {

enum class SessionModel { kNone, kWeibull, kPareto, kLogNormal, kExponential };

// "none", "weibull", "pareto", "lognormal" or "exponential".
Result<SessionModel> parse_session_model(const std::string& name);
const char* session_model_name(SessionModel model);

class SessionTimes {
public:
    // `median_s` > 0; `shape` > 0 (ignored by the exponential).
    SessionTimes(SessionModel model, double median_s, double shape);
    // A session's length in seconds; nullopt for kNone (a node never leaves).
    std::optional<double> draw(Rng& rng) const;

private:
    SessionModel model_;
    double median_s_;
    double shape_;
};

}  // namespace dhtalk
