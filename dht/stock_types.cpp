#include "dht/stock_types.h"

#include <opendht/default_types.h>
#include <opendht/dhtrunner.h>
#include <opendht/securedht.h>
#include <opendht/value.h>

namespace dhtalk {

void register_stock_types(dht::DhtRunner& runner, StockTypes mode, std::shared_ptr<PolicyCounters> counters) {
    if (mode == StockTypes::kRefuseAll) {
        // A network with a roster stores records only (their types have
        // their own policies). No part of dhtalk puts OpenDHT's own value
        // types, so values of those types that a peer offers are refused:
        // none can squat a record's value id or load a key beside it.
        // A type OpenDHT has never registered still falls back to its
        // built-in default, which no API of 2.4.12 lets us replace (see
        // docs/security.md).
        for (const dht::ValueType& stock :
             {std::cref(dht::ValueType::USER_DATA), std::cref(dht::DhtMessage::TYPE), std::cref(dht::ImMessage::TYPE),
              std::cref(dht::IceCandidates::TYPE), std::cref(dht::TrustRequest::TYPE),
              std::cref(dht::IpServiceAnnouncement::TYPE), std::cref(dht::CERTIFICATE_TYPE)}) {
            dht::ValueType type(stock.id, stock.name, stock.expiration);
            type.storePolicy = [counters](dht::InfoHash, std::shared_ptr<dht::Value>&, const dht::InfoHash&,
                                          const dht::SockAddr&) {
                counters->refused++;
                return false;
            };
            type.editPolicy = [counters](dht::InfoHash, const std::shared_ptr<dht::Value>&,
                                         std::shared_ptr<dht::Value>&, const dht::InfoHash&, const dht::SockAddr&) {
                counters->refused++;
                return false;
            };
            runner.registerType(type);
        }
        return;
    }
    // A plain network (no roster) keeps OpenDHT's default value type, for
    // research with stock peers. OpenDHT consults the policy for values that
    // peers store here (not for the node's own puts).
    dht::ValueType type = dht::ValueType::USER_DATA;
    type.storePolicy = [counters](dht::InfoHash, std::shared_ptr<dht::Value>& v, const dht::InfoHash&,
                                  const dht::SockAddr&) {
        const bool ok = v && v->size() <= kMaxValueBytes;
        (ok ? counters->accepted : counters->refused)++;
        return ok;
    };
    // A value, once stored, is not replaced by a different one with the same
    // id (OpenDHT's own rule for this type).
    type.editPolicy = [counters](dht::InfoHash, const std::shared_ptr<dht::Value>&, std::shared_ptr<dht::Value>&,
                                 const dht::InfoHash&, const dht::SockAddr&) {
        counters->refused++;
        return false;
    };
    runner.registerType(type);
}

}  // namespace dhtalk
