// Messages, as nodes and clients receive them: a message as nodes carry it,
// inbox and media requests and answers between members, and, at the
// client, a pre-key bundle, an end-to-end envelope (through the Signal
// protocol's own parser), the content inside it and a file's descriptor.
// The first byte picks the decoder.
#include <stdlib.h>

#include <cstdlib>
#include <filesystem>

#include "client/attachment.h"
#include "client/end_to_end.h"
#include "client/message_content.h"
#include "fuzz/fuzz_util.h"
#include "net/inbox_message.h"
#include "node/front/inbox_messages.h"
#include "node/front/media_messages.h"
#include "records/pre_key_bundle.h"

using namespace dhtalk;

namespace {

// A profile's end-to-end state, made once in a fresh temporary folder that
// goes when the process ends.
struct State {
    State() {
        std::string made = (std::filesystem::temp_directory_path() / "dhtalk-message-fuzz-XXXXXX").string();
        if (!::mkdtemp(made.data())) std::abort();
        dir = made;
        auto opened = client::EndToEnd::open(dir);
        if (!opened) std::abort();
        e2e = std::move(opened).value();
    }
    ~State() {
        e2e.reset();
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    }
    std::filesystem::path dir;
    std::unique_ptr<client::EndToEnd> e2e;
};

client::EndToEnd& state() {
    static State s;
    return *s.e2e;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    unsigned which;
    std::string_view rest;
    if (!fuzz::select(data, size, 9, which, rest)) return 0;
    switch (which) {
    case 0: (void)decode_inbox_message(rest); break;
    case 1: (void)decode_inbox_request(rest); break;
    case 2: (void)decode_inbox_answer(rest); break;
    case 3: (void)decode_pre_key_bundle(rest); break;
    case 4: (void)client::decode_content(rest); break;
    case 5: (void)state().claimed_identity(rest); break;
    case 6: (void)decode_media_request(rest); break;
    case 7: (void)decode_media_answer(rest); break;
    default: (void)client::decode_attachment(rest);
    }
    return 0;
}
