#include "tools/swarm/swarm_manifest.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <chrono>
#include <ctime>

#include <opendht/utils.h>

#include "crypto/signing.h"
#include "dhtalk_revision.h"
#include "dhtalk_version.h"

namespace dhtalk {

std::string scenario_sha256(const Scenario& s) { return crypto::to_hex(crypto::sha256(scenario_text(s))); }

Json::Value manifest(const Scenario& s, double wall_s) {
    Json::Value m(Json::objectValue);
    m["tool"] = std::string("dhtalk-swarm ") + DHTALK_VERSION;
    m["revision"] = DHTALK_REVISION;
    m["seed"] = static_cast<Json::UInt64>(s.seed);
    m["trials"] = static_cast<Json::UInt64>(s.trials);
    m["scenario"] = scenario_text(s);
    m["scenario_sha256"] = scenario_sha256(s);
    m["opendht_version"] = dht::version();
    struct utsname u {};
    if (::uname(&u) == 0)
        m["host"] = std::string(u.nodename) + " (" + u.sysname + " " + u.release + " " + u.machine + ", " +
                    std::to_string(::sysconf(_SC_NPROCESSORS_ONLN)) + " cores)";
    const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    char when[32];
    std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
    m["finished_utc"] = when;
    m["wall_s"] = wall_s;
    return m;
}

}  // namespace dhtalk
