#pragma once
// manifest.json: what a dhtalk-swarm run was, to repeat or cite it: the
// project's revision, the seed and trials, the scenario and its hash, the
// OpenDHT version, the host and the wall time. Unlike summary.json it
// differs between runs (wall time, host).

#include <string>

#include <json/value.h>

#include "sim/swarm/scenario.h"

namespace dhtalk {

// Hex SHA-256 of scenario_text(s): two runs of one scenario share it.
std::string scenario_sha256(const Scenario& s);

Json::Value manifest(const Scenario& s, double wall_s);

}  // namespace dhtalk
