#include "sim/swarm/churn_model.h"

#include <cmath>

namespace dhtalk {

namespace {

// In (0, 1): the logarithms below must not see 0.
double open_unit(Rng& rng) {
    double u = rng.uniform01();
    while (u <= 0.0) u = rng.uniform01();
    return u;
}

}  // namespace

Result<SessionModel> parse_session_model(const std::string& name) {
    if (name == "none") return SessionModel::kNone;
    if (name == "weibull") return SessionModel::kWeibull;
    if (name == "pareto") return SessionModel::kPareto;
    if (name == "lognormal") return SessionModel::kLogNormal;
    if (name == "exponential") return SessionModel::kExponential;
    return Status::invalid("'" + name + "' is not a session model (none, weibull, pareto, lognormal, exponential)");
}

const char* session_model_name(SessionModel model) {
    switch (model) {
        case SessionModel::kNone: return "none";
        case SessionModel::kWeibull: return "weibull";
        case SessionModel::kPareto: return "pareto";
        case SessionModel::kLogNormal: return "lognormal";
        case SessionModel::kExponential: return "exponential";
    }
    return "?";
}

SessionTimes::SessionTimes(SessionModel model, double median_s, double shape)
    : model_(model), median_s_(median_s), shape_(shape) {}

// Each by inverting its distribution function at a uniform draw, with the
// scale set so that the median is median_s_.
std::optional<double> SessionTimes::draw(Rng& rng) const {
    const double u = open_unit(rng);
    switch (model_) {
        case SessionModel::kNone:
            return std::nullopt;
        case SessionModel::kWeibull: {
            const double scale = median_s_ / std::pow(std::log(2.0), 1.0 / shape_);
            return scale * std::pow(-std::log(u), 1.0 / shape_);
        }
        case SessionModel::kPareto: {
            const double minimum = median_s_ / std::pow(2.0, 1.0 / shape_);
            return minimum / std::pow(u, 1.0 / shape_);
        }
        case SessionModel::kLogNormal: {
            // Box-Muller: std::normal_distribution differs between libraries.
            const double z = std::sqrt(-2.0 * std::log(u)) * std::cos(2.0 * M_PI * rng.uniform01());
            return median_s_ * std::exp(shape_ * z);
        }
        case SessionModel::kExponential:
            return -median_s_ / std::log(2.0) * std::log(u);
    }
    return std::nullopt;
}

}  // namespace dhtalk
