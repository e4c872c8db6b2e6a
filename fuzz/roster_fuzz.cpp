// Documents from peers: roster documents (applications, ballots, epochs,
// member updates), the epoch lists of a roster answer, registrar requests
// and verdicts, issuance audit requests and answers, and the members' load
// lines a node gives clients; the first byte picks the decoder.
#include "fuzz/fuzz_util.h"
#include "net/member_load.h"
#include "node/trust/peer_service.h"
#include "node/front/audit_messages.h"
#include "node/front/registrar_messages.h"
#include "roster/roster_documents.h"

using namespace dhtalk;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    unsigned which;
    std::string_view rest;
    if (!fuzz::select(data, size, 10, which, rest)) return 0;
    switch (which) {
    case 0: (void)decode_application(rest); break;
    case 1: (void)decode_ballot(rest); break;
    case 2: (void)decode_roster_epoch(rest); break;
    case 4: (void)decode_registrar_request(rest); break;
    case 5: (void)decode_registrar_verdict(rest); break;
    case 6: (void)decode_audit_request(rest); break;
    case 7: (void)decode_audit_answer(rest); break;
    case 8: (void)decode_member_update(rest); break;
    case 9: (void)parse_member_load(rest); break;
    default:
        if (auto list = decode_epoch_list(rest))
            for (const auto& doc : *list) (void)decode_roster_epoch(doc);
    }
    return 0;
}
