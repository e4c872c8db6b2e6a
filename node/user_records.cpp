#include "node/user_records.h"

namespace dhtalk {
namespace {

std::string record_store_key(const dht::InfoHash& key) { return "ur/" + key.toString(); }

}  // namespace

Status UserRecords::keep_certificate(const std::string& user_id, const std::string& pem) {
    return store_.put("uc/" + user_id, pem);
}

Status UserRecords::keep_record(const dht::InfoHash& key, std::string_view envelope) {
    return store_.put(record_store_key(key), envelope);
}

Result<std::string> UserRecords::find_record(const dht::InfoHash& key) const {
    return store_.get(record_store_key(key));
}

Status UserRecords::erase_record(const dht::InfoHash& key) { return store_.erase(record_store_key(key)); }

Status UserRecords::for_each_record(const std::function<void(const dht::InfoHash&, const std::string&)>& visit) const {
    return store_.scan("ur/", [&](std::string_view k, std::string_view v) {
        const auto hex = k.substr(3);
        if (hex.size() == 40) visit(dht::InfoHash(std::string(hex)), std::string(v));
        return true;
    });
}

}  // namespace dhtalk
