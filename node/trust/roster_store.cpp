#include "node/trust/roster_store.h"

namespace dhtalk {
namespace {

constexpr const char* kEpochs = "ro/";
constexpr const char* kApplications = "ap/";
constexpr const char* kBallots = "bl/";
constexpr const char* kMemberUpdates = "ep/";

std::string be64(uint64_t v) {
    std::string s(8, '\0');
    for (int i = 0; i < 8; ++i) s[static_cast<size_t>(i)] = static_cast<char>(v >> (56 - 8 * i));
    return s;
}

uint64_t read_be64(std::string_view s) {
    uint64_t v = 0;
    for (size_t i = 0; i < 8 && i < s.size(); ++i) v = (v << 8) | static_cast<uint8_t>(s[i]);
    return v;
}

std::string ballot_key(const Ballot& b) {
    return std::string(kBallots) + be64(b.epoch) + b.voter + "/" + std::to_string(static_cast<int>(b.change)) + "/" +
           b.subject;
}

template <class T, class Decode>
Result<std::vector<T>> load_all(const Store& store, const char* prefix, Decode decode) {
    std::vector<T> out;
    Status failure;
    Status scanned = store.scan(prefix, [&](std::string_view, std::string_view value) {
        auto doc = decode(value);
        if (!doc) {
            failure = Status::corruption(std::string("stored ") + prefix + " document: " + doc.status().message());
            return false;
        }
        out.push_back(std::move(doc).value());
        return true;
    });
    DHTALK_TRY(scanned);
    DHTALK_TRY(failure);
    return out;
}

}  // namespace

Status RosterStore::save_epoch(const RosterEpoch& e) { return store_.put(std::string(kEpochs) + be64(e.epoch), encode(e)); }

Result<std::vector<RosterEpoch>> RosterStore::load_chain() const {
    return load_all<RosterEpoch>(store_, kEpochs, decode_roster_epoch);
}

Result<bool> RosterStore::has_chain() const {
    bool any = false;
    DHTALK_TRY(store_.scan(kEpochs, [&](std::string_view, std::string_view) {
        any = true;
        return false;
    }));
    return any;
}

Result<std::string> RosterStore::load_encoded_epoch(uint64_t epoch) const {
    return store_.get(std::string(kEpochs) + be64(epoch));
}

Status RosterStore::save_application(const Application& a) {
    return store_.put(std::string(kApplications) + a.applicant.node_id, encode(a));
}

Status RosterStore::erase_application(const std::string& node_id) {
    return store_.erase(std::string(kApplications) + node_id);
}

Result<std::vector<Application>> RosterStore::load_applications() const {
    return load_all<Application>(store_, kApplications, decode_application);
}

Status RosterStore::save_ballot(const Ballot& b) { return store_.put(ballot_key(b), encode(b)); }

Result<std::vector<Ballot>> RosterStore::load_ballots() const {
    return load_all<Ballot>(store_, kBallots, decode_ballot);
}

Status RosterStore::forget_ballots_before(uint64_t epoch) {
    WriteBatch batch;
    DHTALK_TRY(store_.scan(kBallots, [&](std::string_view key, std::string_view) {
        if (read_be64(key.substr(std::string_view(kBallots).size())) < epoch) batch.erase(std::string(key));
        return true;
    }));
    return batch.empty() ? Status::ok() : store_.write(batch);
}

Status RosterStore::save_member_update(const MemberUpdate& u) {
    return store_.put(std::string(kMemberUpdates) + u.node_id, encode(u));
}

Status RosterStore::erase_member_update(const std::string& node_id) {
    return store_.erase(std::string(kMemberUpdates) + node_id);
}

Result<std::vector<MemberUpdate>> RosterStore::load_member_updates() const {
    return load_all<MemberUpdate>(store_, kMemberUpdates, decode_member_update);
}

}  // namespace dhtalk
