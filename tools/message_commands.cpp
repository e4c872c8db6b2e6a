#include "tools/message_commands.h"

#include <cstdio>
#include <iostream>
#include <iterator>
#include <optional>

#include <unistd.h>

#include <json/json.h>

#include "client/attachment.h"
#include "client/message_content.h"
#include "common/json.h"
#include "tools/cli_error.h"

namespace dhtalk::cli {
namespace {

// A file's name and size, as its sender described it (their word only: the
// download checks the bytes).
std::optional<client::Attachment> attachment_of(const client::ChatMessage& m) {
    if (m.attachment.empty()) return std::nullopt;
    auto a = client::decode_attachment(m.attachment);
    if (!a) return std::nullopt;
    return std::move(a).value();
}

Json::Value message_json(const client::ChatMessage& m, const std::filesystem::path& saved = {}) {
    Json::Value j(Json::objectValue);
    j[m.outgoing ? "to" : "from"] = m.peer;
    j["id"] = m.id;
    j["sent_ms"] = Json::Int64(m.sent_ms);
    j["text"] = m.text;
    if (auto a = attachment_of(m)) {
        Json::Value f(Json::objectValue);
        f["name"] = a->name;
        f["type"] = a->type;
        f["size"] = Json::UInt64(a->size);
        if (!saved.empty()) f["saved"] = saved.string();
        j["file"] = f;
    }
    return j;
}

// On a terminal, a line on stderr that redraws itself: what moved so far.
client::Progress progress_line(const std::string& what) {
    if (!isatty(2)) return {};
    return [what](uint64_t done, uint64_t total) {
        const double mib = 1024.0 * 1024.0;
        std::fprintf(stderr, "\r%s: %3.0f%% (%.1f of %.1f MiB)", what.c_str(),
                     total ? 100.0 * static_cast<double>(done) / static_cast<double>(total) : 100.0, done / mib,
                     total / mib);
        if (done == total) std::fputc('\n', stderr);
    };
}

// Another user's text, safe for a terminal and for reading line by line:
// control characters (a newline that would forge a line, an escape
// sequence) are shown as \xNN.
std::string printable(const std::string& text) {
    std::string out;
    for (unsigned char c : text) {
        if (c < 0x20 || c == 0x7f) {
            char hex[5];
            std::snprintf(hex, sizeof hex, "\\x%02x", c);
            out += hex;
        } else {
            out += static_cast<char>(c);
        }
    }
    return out;
}

std::string message_line(const client::ChatMessage& m, const std::filesystem::path& saved = {}) {
    std::string line = std::string(m.outgoing ? "to " : "from ") + m.peer + "  " + std::to_string(m.sent_ms / 1000) +
                       "  " + printable(m.text);
    if (auto a = attachment_of(m)) {
        line += std::string(m.text.empty() ? "" : "  ") + "[file " + printable(a->name) + ", " +
                std::to_string(a->size) + " bytes";
        if (!saved.empty()) line += ", saved as " + printable(saved.string());
        line += "]";
    }
    return line;
}

// Exit status 2 for what the user can correct, 1 for the rest.
int failed(const std::string& command, const Status& s) {
    return fail(command, s.code() == Code::kInvalidArgument ? 2 : 1, s.message());
}

// The one user a command names (+NUMBER or USER_ID); none after printing why.
std::optional<std::string> the_user(const std::string& command, const std::vector<std::string>& positional,
                                    client::Client& c) {
    if (positional.size() != 1) {
        fail(command, 2, "give one +NUMBER or USER_ID");
        return std::nullopt;
    }
    auto id = c.user_id_of(positional[0]);
    if (!id) {
        fail(command, 2, id.status().message());
        return std::nullopt;
    }
    return *id;
}

int send(const std::vector<std::string>& positional, client::Client& c, const MessageOptions& options) {
    const bool json = options.json;
    if (positional.empty() || positional.size() > 2)
        return fail("send", 2, "give the recipient and the text: dhtalk send +NUMBER|USER_ID TEXT (or the text on standard input)");
    auto to = c.user_id_of(positional[0]);
    if (!to) return fail("send", 2, to.status().message());
    if (!options.file.empty()) {
        // A file, with the text (if any) as its caption.
        const std::string caption = positional.size() == 2 ? positional[1] : "";
        auto sent = c.send_file(*to, options.file, options.type, caption,
                                progress_line("sending " + options.file.filename().string()));
        if (!sent) return failed("send", sent.status());
        if (json) std::cout << json::to_compact(message_json(*sent)) << "\n";
        else std::cout << sent->id << "\n";
        for (const auto& n : c.take_notices()) std::cerr << "dhtalk send: " << n << "\n";
        return 0;
    }
    std::string text;
    if (positional.size() == 2 && positional[1] != "-") {
        text = positional[1];
    } else {
        // At most one byte over the bound, so that a longer text is refused whole.
        std::istreambuf_iterator<char> in(std::cin), end;
        while (in != end && text.size() <= client::kMaxTextBytes) text.push_back(*in++);
        while (!text.empty() && text.back() == '\n') text.pop_back();
    }
    auto sent = c.send_message(*to, text);
    if (!sent) return failed("send", sent.status());
    if (json) std::cout << json::to_compact(message_json(*sent)) << "\n";
    else std::cout << sent->id << "\n";
    for (const auto& n : c.take_notices()) std::cerr << "dhtalk send: " << n << "\n";
    return 0;
}

Json::Value receipt_json(const client::Receipt& r) {
    Json::Value j(Json::objectValue);
    j["receipt"] = client::sent_state_name(r.state);
    j["from"] = r.peer;
    Json::Value ids(Json::arrayValue);
    for (const auto& id : r.ids) ids.append(id);
    j["ids"] = ids;
    return j;
}

std::string receipt_line(const client::Receipt& r) {
    return std::string(r.state == client::SentState::kRead ? "read by " : "delivered to ") + r.peer + "  " +
           std::to_string(r.ids.size()) + (r.ids.size() == 1 ? " message" : " messages");
}

// Prints what came (flushed: the output may be a pipe), saving each file
// into `save_to`, and marks the messages shown. A message whose file could
// not be fetched for now (no node, a node busy) is shown again next time;
// one whose file is gone (expired) or forged is shown with the reason.
Status show(client::Client& c, const client::Client::Received& received, bool json,
            const std::filesystem::path& save_to) {
    std::vector<client::ChatMessage> shown;
    for (const auto& m : received.messages) {
        std::filesystem::path saved;
        if (!m.attachment.empty()) {
            auto path = c.save_attachment(m, save_to, progress_line("receiving from " + m.peer.substr(0, 8)));
            const Code why = path.status().code();
            if (!path && why != Code::kNotFound && why != Code::kCorruption) {
                std::cerr << "dhtalk inbox: the file of message " << m.id << " from " << m.peer
                          << " could not be fetched (shown again next time): " << path.status().message() << "\n";
                continue;
            }
            if (!path)
                std::cerr << "dhtalk inbox: the file of message " << m.id << " from " << m.peer
                          << " cannot be saved: " << path.status().message() << "\n";
            else saved = *path;
        }
        std::cout << (json ? json::to_compact(message_json(m, saved)) : message_line(m, saved)) << "\n";
        shown.push_back(m);
    }
    for (const auto& r : received.receipts)
        std::cout << (json ? json::to_compact(receipt_json(r)) : receipt_line(r)) << "\n";
    std::cout.flush();
    return c.mark_shown(shown);
}

// Prints each message as it comes, until the process is stopped or no node
// is left.
int follow(client::Client& c, bool json, const std::filesystem::path& save_to) {
    Status shown = Status::ok();
    Status s = c.follow_messages(
        [&](const client::Client::Received& received) {
            shown = show(c, received, json, save_to);
            return shown.is_ok();
        },
        [](const std::string& problem) { std::cerr << "dhtalk inbox: " << problem << "\n"; },
        [](const std::string& node) { std::cerr << "following your inbox through " << node << std::endl; });
    if (!shown) return failed("inbox", shown);
    return failed("inbox", Status(s.code(), "no node to follow the inbox through: " + s.message()));
}

int inbox(client::Client& c, bool json, const std::filesystem::path& save_to) {
    std::vector<std::string> problems;
    auto received = c.receive_messages(&problems);
    for (const auto& p : problems) std::cerr << "dhtalk inbox: " << p << "\n";
    if (!received) return failed("inbox", received.status());
    if (Status s = show(c, *received, json, save_to); !s) return failed("inbox", s);
    if (!json && received->messages.empty()) std::cerr << "no new messages\n";
    return 0;
}

int read(const std::vector<std::string>& positional, client::Client& c, bool json) {
    auto peer = the_user("read", positional, c);
    if (!peer) return 2;
    auto marked = c.mark_read(*peer);
    if (!marked) return failed("read", marked.status());
    const char* noun = marked->covered == 1 ? " message" : " messages";
    if (json) {
        Json::Value j(Json::objectValue);
        j["user_id"] = *peer;
        j["read"] = Json::UInt64(marked->covered);
        j["told"] = marked->told;
        std::cout << json::to_compact(j) << "\n";
    } else if (marked->told) {
        std::cout << "told " << *peer << " you read " << marked->covered << noun << "\n";
    } else {
        std::cout << "marked " << marked->covered << noun << " from " << *peer
                  << " read; read receipts are off, so they are not told\n";
    }
    return 0;
}

int trust(const std::vector<std::string>& positional, client::Client& c, bool json) {
    auto peer = the_user("trust", positional, c);
    if (!peer) return 2;
    auto key = c.trust_key(*peer);
    if (!key) return failed("trust", key.status());
    if (json) {
        Json::Value j(Json::objectValue);
        j["user_id"] = *peer;
        j["changed"] = key->changed;
        j["issuer"] = key->issuer_node_id;
        j["issued_s"] = Json::Int64(key->issued_s);
        std::cout << json::to_compact(j) << "\n";
    } else {
        std::cout << (key->changed ? "accepted the new key or device of " : "the keys of ") << *peer
                  << (key->changed ? "" : " are the ones you had") << ": newest certificate issued by node "
                  << key->issuer_node_id.substr(0, 16) << " at " << key->issued_s << " (Unix time)\n";
    }
    return 0;
}

// Every certificate in the user's issuance log: who issued it and when.
int keys(const std::vector<std::string>& positional, client::Client& c, bool json) {
    auto peer = the_user("keys", positional, c);
    if (!peer) return 2;
    auto keys = c.issued_keys(*peer);
    if (!keys) return failed("keys", keys.status());
    if (!json && keys->empty()) std::cerr << "no certificate of " << *peer << " in the issuance log\n";
    for (const auto& k : *keys) {
        if (json) {
            Json::Value j(Json::objectValue);
            j["user_id"] = *peer;
            j["issuer"] = k.issuer_node_id;
            j["issued_s"] = Json::Int64(k.issued_s);
            j["expires_s"] = Json::Int64(k.expires_s);
            j["current"] = k.current;
            std::cout << json::to_compact(j) << "\n";
        } else {
            std::cout << "issued by node " << k.issuer_node_id.substr(0, 16) << " at " << k.issued_s
                      << " (Unix time), valid until " << k.expires_s << (k.current ? "  <- signs their keys now" : "")
                      << "\n";
        }
    }
    return 0;
}

int sent(const std::vector<std::string>& positional, client::Client& c, bool json) {
    if (positional.size() > 1) return fail("sent", 2, "give at most one +NUMBER or USER_ID");
    std::string peer;
    if (positional.size() == 1) {
        auto id = c.user_id_of(positional[0]);
        if (!id) return fail("sent", 2, id.status().message());
        peer = *id;
    }
    std::vector<std::string> problems;
    auto messages = c.sent_messages(peer, &problems);
    for (const auto& p : problems) std::cerr << "dhtalk sent: " << p << "\n";
    if (!messages) return failed("sent", messages.status());
    for (const auto& [m, state] : *messages) {
        if (json) {
            Json::Value j = message_json(m);
            j["state"] = client::sent_state_name(state);
            if (m.expires_ms) j["expires_ms"] = Json::Int64(m.expires_ms);
            std::cout << json::to_compact(j) << "\n";
        } else {
            std::cout << client::sent_state_name(state) << "  " << message_line(m) << "\n";
        }
    }
    return 0;
}

int history(const std::vector<std::string>& positional, client::Client& c, bool json) {
    auto peer = the_user("history", positional, c);
    if (!peer) return 2;
    auto messages = c.conversation(*peer);
    if (!messages) return failed("history", messages.status());
    for (const auto& m : *messages) std::cout << (json ? json::to_compact(message_json(m)) : message_line(m)) << "\n";
    return 0;
}

}  // namespace

int run_message_command(const std::string& command, const std::vector<std::string>& positional, client::Client& c,
                        const MessageOptions& options) {
    if (command == "send") return send(positional, c, options);
    if (command == "inbox") {
        if (!positional.empty()) return fail("inbox", 2, "inbox takes options only");
        return options.follow ? follow(c, options.json, options.save_to) : inbox(c, options.json, options.save_to);
    }
    if (command == "history") return history(positional, c, options.json);
    if (command == "read") return read(positional, c, options.json);
    if (command == "sent") return sent(positional, c, options.json);
    if (command == "trust") return trust(positional, c, options.json);
    if (command == "keys") return keys(positional, c, options.json);
    return fail(command, 2, "unknown command");
}

}  // namespace dhtalk::cli
