#include "tools/user_commands.h"

#include <algorithm>
#include <cstdio>
#include <iostream>

#include <boost/program_options.hpp>
#include <json/json.h>

#include "common/files.h"
#include "common/json.h"
#include "common/option_error.h"
#include "tools/cli_error.h"
#include "tools/message_commands.h"
#include "crypto/signing.h"
#include "client/client.h"

namespace po = boost::program_options;

namespace dhtalk::cli {
namespace {

const std::vector<std::string> kCommands = {"register", "verify",   "whoami",  "vcard", "resolve",  "block",
                                            "unblock",  "allow",    "disallow", "privacy", "media", "presence",
                                            "send",     "inbox",    "history", "read",   "sent", "trust", "keys",
                                            "nodes", "devices"};

const char* kUsage =
    "Usage: dhtalk register +NUMBER              ask a node to send a verification code\n"
    "       dhtalk verify CODE                   finish registering: get the user certificate\n"
    "       dhtalk whoami                        this profile's user\n"
    "       dhtalk vcard set [--name N] [--status S] [--avatar REF] [--pgp-key FILE]\n"
    "       dhtalk vcard get [+NUMBER|USER_ID]   a vCard (default: your own)\n"
    "       dhtalk resolve +NUMBER|USER_ID       find a user and print their vCard\n"
    "       dhtalk block|unblock +NUMBER|USER_ID\n"
    "       dhtalk allow|disallow +NUMBER|USER_ID   the allow-list (used in allow-only mode)\n"
    "       dhtalk privacy show                  your privacy list\n"
    "       dhtalk privacy mode allow-only|everyone\n"
    "       dhtalk privacy receipts on|off       whether 'dhtalk read' sends read receipts\n"
    "       dhtalk media publish FILE [--type MEDIA_TYPE]   encrypt FILE, publish its metadata\n"
    "       dhtalk media info REFERENCE          the metadata a media reference unlocks\n"
    "       dhtalk presence set available|away|busy [--status TEXT]\n"
    "       dhtalk presence get +NUMBER|USER_ID\n"
    "       dhtalk presence watch +NUMBER|USER_ID...   print changes as they come (one JSON line each with --json)\n"
    "       dhtalk send +NUMBER|USER_ID [TEXT]   send a message, end-to-end encrypted (TEXT or standard input);\n"
    "                                            prints its id once two nodes hold it\n"
    "       dhtalk send +NUMBER|USER_ID --file PATH [--type MEDIA_TYPE] [CAPTION]   send a file\n"
    "       dhtalk inbox [--follow] [--save-to DIR]   print the messages received since last time, each once,\n"
    "                                            saving files in DIR; with --follow, then each new one as it arrives\n"
    "       dhtalk read +NUMBER|USER_ID          tell the user you read their messages (read receipts)\n"
    "       dhtalk sent [+NUMBER|USER_ID]        your messages' states: stored, delivered, read\n"
    "       dhtalk history +NUMBER|USER_ID       the conversation with a user, from this profile\n"
    "       dhtalk trust +NUMBER|USER_ID         accept a contact's new key, after checking with them\n"
    "       dhtalk keys +NUMBER|USER_ID          every certificate in their issuance log: who issued it, when\n"
    "       dhtalk nodes                         the network's members: where clients reach them, their load\n"
    "       dhtalk devices                       your devices (add one: register your number on it)\n"
    "       dhtalk devices remove ID             take a device off for good: it gets no more messages\n\n";

struct Args {
    std::vector<std::string> positional;
    client::ClientOptions options;
    bool json = false;
    po::variables_map vm;
};

void print_json(const Json::Value& v) { std::cout << json::to_pretty(v) << "\n"; }

std::string vcard_text(const std::string& user_id, const VCard& v) {
    std::string out = "user     " + user_id + "\nname     " + v.name + "\nstatus   " + v.status + "\n";
    if (!v.avatar.empty()) out += "avatar   " + v.avatar + "\n";
    if (!v.encryption_key.empty()) out += "key      " + crypto::to_hex(crypto::sha256(v.encryption_key)).substr(0, 16) + " (SHA-256 prefix)\n";
    if (!v.pgp_key.empty()) out += "openpgp  " + std::to_string(v.pgp_key.size()) + " bytes\n";
    return out;
}

Json::Value vcard_json(const std::string& user_id, const VCard& v) {
    Json::Value j(Json::objectValue);
    j["user_id"] = user_id;
    j["name"] = v.name;
    j["status"] = v.status;
    j["avatar"] = v.avatar;
    j["encryption_key"] = v.encryption_key;
    j["pgp_key_bytes"] = Json::UInt64(v.pgp_key.size());
    return j;
}

Json::Value list_json(const std::vector<std::string>& ids) {
    Json::Value a(Json::arrayValue);
    for (const auto& id : ids) a.append(id);
    return a;
}

int with_client(const std::string& command, Args& a,
                const std::function<int(client::Client&)>& body) {
    auto c = client::Client::open(a.options);
    if (!c) return fail(command, 1, c.status().message());
    return body(**c);
}

int edit_privacy(const std::string& command, Args& a) {
    if (a.positional.size() != 1) return fail(command, 2, "give one +NUMBER or USER_ID");
    return with_client(command, a, [&](client::Client& c) {
        auto id = c.user_id_of(a.positional[0]);
        if (!id) return fail(command, 2, id.status().message());
        auto list = c.privacy();
        if (!list) return fail(command, 1, list.status().message());
        const bool blocking = command == "block" || command == "unblock";
        auto& ids = blocking ? list->blocked : list->allowed;
        const bool add = command == "block" || command == "allow";
        ids.erase(std::remove(ids.begin(), ids.end(), *id), ids.end());
        if (add) ids.push_back(*id);
        Status s = c.set_privacy(*list);
        if (!s) return fail(command, 1, s.message());
        if (a.json) {
            Json::Value j(Json::objectValue);
            j["user_id"] = *id;
            j[blocking ? "blocked" : "allowed"] = add;
            print_json(j);
        } else {
            std::cout << (add ? (blocking ? "blocked " : "allowed ") : (blocking ? "unblocked " : "no longer allowed "))
                      << *id << "\n";
        }
        return 0;
    });
}

int privacy_command(Args& a) {
    const std::string sub = a.positional.empty() ? "" : a.positional[0];
    return with_client("privacy", a, [&](client::Client& c) {
        auto list = c.privacy();
        if (!list) return fail("privacy", 1, list.status().message());
        if (sub == "mode") {
            if (a.positional.size() != 2 || (a.positional[1] != "allow-only" && a.positional[1] != "everyone"))
                return fail("privacy", 2, "privacy mode takes allow-only or everyone");
            list->allow_only = a.positional[1] == "allow-only";
            Status s = c.set_privacy(*list);
            if (!s) return fail("privacy", 1, s.message());
        } else if (sub == "receipts") {
            if (a.positional.size() != 2 || (a.positional[1] != "on" && a.positional[1] != "off"))
                return fail("privacy", 2, "privacy receipts takes on or off");
            list->read_receipts = a.positional[1] == "on";
            Status s = c.set_privacy(*list);
            if (!s) return fail("privacy", 1, s.message());
        } else if (sub != "show") {
            return fail("privacy", 2, "use 'privacy show', 'privacy mode allow-only|everyone' or 'privacy receipts on|off'");
        }
        if (a.json) {
            Json::Value j(Json::objectValue);
            j["user_id"] = c.profile().user_id;
            j["mode"] = list->allow_only ? "allow-only" : "everyone";
            j["blocked"] = list_json(list->blocked);
            j["allowed"] = list_json(list->allowed);
            j["read_receipts"] = list->read_receipts;
            print_json(j);
        } else {
            std::cout << "mode     " << (list->allow_only ? "allow-only (only allowed users see you)" : "everyone except blocked")
                      << "\nreceipts " << (list->read_receipts ? "on (dhtalk read tells the sender)" : "off")
                      << "\nblocked  " << list->blocked.size() << "\n";
            for (const auto& id : list->blocked) std::cout << "  " << id << "\n";
            std::cout << "allowed  " << list->allowed.size() << "\n";
            for (const auto& id : list->allowed) std::cout << "  " << id << "\n";
        }
        return 0;
    });
}

Json::Value presence_json(const FrameParams& p) {
    Json::Value j(Json::objectValue);
    for (const char* k : {"user_id", "show", "status", "host"})
        if (auto it = p.find(k); it != p.end() && std::holds_alternative<std::string>(it->second))
            j[k] = std::get<std::string>(it->second);
    if (auto it = p.find("last_seen_ms"); it != p.end() && std::holds_alternative<uint64_t>(it->second))
        j["last_seen_ms"] = Json::UInt64(std::get<uint64_t>(it->second));
    return j;
}

std::string presence_line(const Json::Value& j) {
    std::string line = j["user_id"].asString() + "  " + j["show"].asString();
    if (!j["status"].asString().empty()) line += "  \"" + j["status"].asString() + "\"";
    if (j["show"].asString() == "unavailable" && j["last_seen_ms"].asUInt64())
        line += "  (last seen " + std::to_string(j["last_seen_ms"].asUInt64() / 1000) + ", Unix time)";
    return line;
}

int presence_command(Args& a) {
    const std::string sub = a.positional.empty() ? "" : a.positional[0];
    return with_client("presence", a, [&](client::Client& c) {
        if (sub == "set") {
            if (a.positional.size() != 2) return fail("presence", 2, "presence set takes available, away or busy");
            std::string text;
            if (a.vm.count("status")) text = a.vm["status"].as<std::string>();
            Status s = c.set_presence(a.positional[1], text);
            if (!s) return fail("presence", s.code() == Code::kInvalidArgument ? 2 : 1, s.message());
            if (!a.json) std::cout << "you are " << a.positional[1] << "\n";
            return 0;
        }
        if (sub == "get") {
            if (a.positional.size() != 2) return fail("presence", 2, "presence get takes one +NUMBER or USER_ID");
            auto id = c.user_id_of(a.positional[1]);
            if (!id) return fail("presence", 2, id.status().message());
            auto p = c.presence(*id);
            if (!p) return fail("presence", 1, p.status().message());
            const auto j = presence_json(*p);
            if (a.json) std::cout << json::to_compact(j) << "\n";
            else std::cout << presence_line(j) << "\n";
            return 0;
        }
        if (sub == "watch") {
            if (a.positional.size() < 2) return fail("presence", 2, "presence watch takes one or more +NUMBER or USER_ID");
            std::vector<std::string> ids;
            for (size_t i = 1; i < a.positional.size(); ++i) {
                auto id = c.user_id_of(a.positional[i]);
                if (!id) return fail("presence", 2, id.status().message());
                ids.push_back(*id);
            }
            Status s = c.watch_presence(ids, [&](const FrameParams& p) {
                const auto j = presence_json(p);
                std::cout << (a.json ? json::to_compact(j) : presence_line(j)) << std::endl;
                return true;
            });
            return fail("presence", 1, "the node closed the watch: " + s.message());
        }
        return fail("presence", 2, "use 'presence set', 'presence get' or 'presence watch'");
    });
}

int nodes_command(Args& a) {
    if (!a.positional.empty()) return fail("nodes", 2, "nodes takes options only");
    return with_client("nodes", a, [&](client::Client& c) {
        auto listed = c.nodes();
        if (!listed) return fail("nodes", 1, listed.status().message());
        if (a.json) {
            Json::Value out(Json::objectValue);
            out["network"] = c.network_name();
            out["asked"] = c.node();
            out["nodes"] = Json::Value(Json::arrayValue);
            for (const auto& n : *listed) {
                Json::Value j(Json::objectValue);
                j["node_id"] = n.node_id;
                j["endpoints"] = list_json(n.endpoints);
                j["state"] = n.state;
                j["sessions"] = n.sessions;
                j["capacity"] = n.capacity;
                j["current"] = n.current;
                out["nodes"].append(j);
            }
            print_json(out);
            return 0;
        }
        std::cout << "Network '" << c.network_name() << "': " << listed->size() << " members, as " << c.node()
                  << " sees them (least loaded first)\n";
        for (const auto& n : *listed) {
            const std::string at = n.endpoints.empty() ? "(serves no clients)" : n.endpoints.front();
            const std::string load = n.capacity ? std::to_string(n.sessions) + "/" + std::to_string(n.capacity) +
                                                      " sessions"
                                                : "load unknown";
            std::cout << (n.current ? "* " : "  ") << n.node_id.substr(0, 16) << "  " << at << "  "
                      << (n.state.empty() ? "unknown" : n.state) << "  " << load << "\n";
        }
        return 0;
    });
}

int devices_command(Args& a) {
    const bool remove = !a.positional.empty() && a.positional[0] == "remove";
    if (remove ? a.positional.size() != 2 : !a.positional.empty())
        return fail("devices", 2, "use 'devices' or 'devices remove ID'");
    return with_client("devices", a, [&](client::Client& c) {
        if (remove) {
            if (Status s = c.remove_device(a.positional[1]); !s) return fail("devices", s.code() == Code::kInvalidArgument ? 2 : 1, s.message());
        }
        auto listed = c.devices();
        if (!listed) return fail("devices", 1, listed.status().message());
        if (a.json) {
            Json::Value out(Json::objectValue);
            out["user_id"] = c.profile().user_id;
            out["devices"] = Json::Value(Json::arrayValue);
            for (const auto& d : listed->devices) {
                Json::Value j(Json::objectValue);
                j["id"] = d.id;
                j["added_ms"] = Json::Int64(d.added_ms);
                j["label"] = d.label;
                j["current"] = d.current;
                j["new"] = d.new_here;
                out["devices"].append(j);
            }
            out["removed"] = list_json(listed->removed);
            print_json(out);
            return 0;
        }
        if (remove) std::cout << "Removed device " << a.positional[1] << ": it gets no more messages.\n";
        std::cout << listed->devices.size() << (listed->devices.size() == 1 ? " device" : " devices") << " of user "
                  << c.profile().user_id << " (added, Unix time in ms):\n";
        for (const auto& d : listed->devices)
            std::cout << (d.current ? "* " : "  ") << d.id << "  " << d.added_ms << (d.label.empty() ? "" : "  " + d.label)
                      << (d.current ? "  (this one)" : "") << (d.new_here ? "  NEW: if it is not yours, remove it" : "")
                      << "\n";
        if (!listed->removed.empty()) std::cout << listed->removed.size() << " removed for good\n";
        return 0;
    });
}

int media_command(Args& a) {
    if (a.positional.size() != 2 || (a.positional[0] != "publish" && a.positional[0] != "info"))
        return fail("media", 2, "use 'media publish FILE' or 'media info REFERENCE'");
    return with_client("media", a, [&](client::Client& c) {
        if (a.positional[0] == "publish") {
            const std::string type = a.vm.count("type") ? a.vm["type"].as<std::string>() : "application/octet-stream";
            auto out = c.publish_media(a.positional[1], type);
            if (!out) return fail("media", 1, out.status().message());
            if (a.json) {
                Json::Value j(Json::objectValue);
                j["reference"] = out->reference.to_string();
                j["file_id"] = crypto::to_hex(out->metadata.file_id);
                j["size"] = Json::UInt64(out->metadata.size);
                j["encrypted_file"] = out->encrypted_file.string();
                print_json(j);
            } else {
                std::cout << out->reference.to_string() << "\n";
            }
            return 0;
        }
        auto ref = parse_media_reference(a.positional[1]);
        if (!ref) return fail("media", 2, ref.status().message());
        auto meta = c.media_info(*ref);
        if (!meta) return fail("media", 1, meta.status().message());
        Json::Value j(Json::objectValue);
        j["file_id"] = crypto::to_hex(meta->file_id);
        j["size"] = Json::UInt64(meta->size);
        j["type"] = meta->type;
        j["holder"] = meta->holder;
        j["expires_at_s"] = Json::Int64(meta->expires_at_s);
        j["owner"] = ref->user_id;
        if (a.json) print_json(j);
        else
            std::cout << "file     " << j["file_id"].asString() << "\nsize     " << meta->size << " bytes\ntype     "
                      << meta->type << "\nholder   node " << meta->holder << "\nowner    " << ref->user_id
                      << "\nexpires  " << meta->expires_at_s << " (Unix time)\n";
        return 0;
    });
}

}  // namespace

bool is_user_command(const std::string& command) {
    return std::find(kCommands.begin(), kCommands.end(), command) != kCommands.end();
}

int run_user_command(const std::string& command, const std::vector<std::string>& args) {
    po::options_description o(std::string(kUsage) + "Options");
    o.add_options()
        ("help,h", "print this help")
        ("profile", po::value<std::string>(), "the profile directory (default: ~/.config/dhtalk)")
        ("node", po::value<std::vector<std::string>>()->composing(),
         "HOST:PORT of a node's client port; repeat to fail over in order (default: the profile's, else 127.0.0.1:4223)")
        ("json", po::bool_switch(), "print data as JSON")
        ("timeout", po::value<unsigned>()->default_value(15), "seconds to wait for a node")
        ("name", po::value<std::string>(), "vcard set: display name")
        ("status", po::value<std::string>(), "vcard set, presence set: status text")
        ("avatar", po::value<std::string>(), "vcard set: avatar media reference")
        ("pgp-key", po::value<std::string>(), "vcard set: a file holding an OpenPGP public key")
        ("type", po::value<std::string>(), "media publish, send --file: the media type, such as image/png")
        ("file", po::value<std::string>(), "send: a file to send (up to 100 MiB), end-to-end encrypted; the text is its caption")
        ("save-to", po::value<std::string>(), "inbox: the folder files received are saved in (default: PROFILE/files)")
        ("follow", po::bool_switch(), "inbox: stay, and print messages as they arrive (failing over between nodes)");
    po::options_description hidden;
    hidden.add_options()("args", po::value<std::vector<std::string>>());
    po::options_description all;
    all.add(o).add(hidden);
    po::positional_options_description pos;
    pos.add("args", -1);
    Args a;
    try {
        po::store(po::command_line_parser(args).options(all).positional(pos).run(), a.vm);
        po::notify(a.vm);
    } catch (const po::error& e) {
        return fail(command, 2, describe_option_error(e, holds_percent(args)));
    }
    if (a.vm.count("help")) {
        std::cout << o;
        return 0;
    }
    if (a.vm.count("args")) a.positional = a.vm["args"].as<std::vector<std::string>>();
    a.json = a.vm["json"].as<bool>();
    a.options.profile_dir = a.vm.count("profile") ? std::filesystem::path(a.vm["profile"].as<std::string>())
                                                  : client::default_profile_dir();
    if (a.vm.count("node")) a.options.nodes = a.vm["node"].as<std::vector<std::string>>();
    const unsigned timeout = a.vm["timeout"].as<unsigned>();
    if (timeout < 1 || timeout > 600) return fail(command, 2, "--timeout must be 1..600 seconds");
    a.options.timeout = std::chrono::seconds(timeout);

    if (command == "register") {
        if (a.positional.size() != 1) return fail(command, 2, "give the phone number: dhtalk register +15555245554");
        return with_client(command, a, [&](client::Client& c) {
            auto id = c.register_number(a.positional[0]);
            if (!id) return fail(command, 1, id.status().message());
            if (a.json) {
                Json::Value j(Json::objectValue);
                j["user_id"] = *id;
                j["phone"] = c.profile().phone;
                j["node"] = c.node();
                j["node_id"] = c.node_id();
                j["network"] = c.network_name();
                j["network_id"] = Json::UInt(c.profile().network_id);
                print_json(j);
            } else {
                std::cout << "Network '" << c.network_name() << "' (id " << std::hex << c.profile().network_id
                          << std::dec << "), node " << c.node_id() << " at " << c.node() << ".\n"
                          << "A verification code is on its way to " << c.profile().phone << " (user id " << *id
                          << ").\nFinish with: dhtalk verify CODE\n";
            }
            return 0;
        });
    }
    if (command == "verify") {
        if (a.positional.size() != 1) return fail(command, 2, "give the code you received: dhtalk verify 123456");
        return with_client(command, a, [&](client::Client& c) {
            Status s = c.verify(a.positional[0]);
            if (!s) return fail(command, 1, s.message());
            // Others start sessions with the user from these keys.
            if (Status keys = c.publish_keys(); !keys)
                std::cerr << "dhtalk verify: your keys for messages are not published yet (" << keys.message()
                          << "); your next 'dhtalk send' publishes them\n";
            if (a.json) {
                Json::Value j(Json::objectValue);
                j["user_id"] = c.profile().user_id;
                j["node"] = c.profile().nodes.front();
                print_json(j);
            } else {
                std::cout << "Verified: you are user " << c.profile().user_id << " (certificate in "
                          << c.profile().dir.string() << ")\n";
            }
            return 0;
        });
    }
    if (command == "nodes") return nodes_command(a);
    if (command == "devices") return devices_command(a);
    if (command == "whoami") {
        return with_client(command, a, [&](client::Client& c) {
            const auto& p = c.profile();
            if (!p.registered()) return fail(command, 1, "this profile has no user yet: run 'dhtalk register +NUMBER'");
            Json::Value j(Json::objectValue);
            j["user_id"] = p.user_id;
            j["phone"] = p.phone;
            j["network_id"] = p.network_id;
            j["nodes"] = list_json(p.nodes);
            if (a.json) print_json(j);
            else std::cout << "user     " << p.user_id << "\nphone    " << p.phone << "\nnodes    " << p.nodes.size() << " known, first " << p.nodes.front() << "\n";
            return 0;
        });
    }
    if (command == "vcard") {
        const std::string sub = a.positional.empty() ? "" : a.positional[0];
        if (sub == "set") {
            if (a.positional.size() != 1) return fail(command, 2, "vcard set takes options only");
            return with_client(command, a, [&](client::Client& c) {
                VCard card;
                if (auto current = c.vcard(c.profile().user_id)) card = *current;  // keep what is not given
                if (a.vm.count("name")) card.name = a.vm["name"].as<std::string>();
                if (a.vm.count("status")) card.status = a.vm["status"].as<std::string>();
                if (a.vm.count("avatar")) card.avatar = a.vm["avatar"].as<std::string>();
                if (a.vm.count("pgp-key")) {
                    auto key = read_file(a.vm["pgp-key"].as<std::string>(), kMaxPgpKeyBytes);
                    if (!key) return fail(command, 1, key.status().message());
                    card.pgp_key = *key;
                }
                auto seq = c.set_vcard(card);
                if (!seq) return fail(command, 1, seq.status().message());
                if (a.json) {
                    Json::Value j = vcard_json(c.profile().user_id, card);
                    j["sequence"] = Json::UInt64(*seq);
                    print_json(j);
                } else {
                    std::cout << "published your vCard (sequence " << *seq << ")\n";
                }
                return 0;
            });
        }
        if (sub != "get" || a.positional.size() > 2) return fail(command, 2, "use 'vcard set ...' or 'vcard get [USER]'");
    }
    if (command == "vcard" || command == "resolve") {
        std::string who;
        if (command == "resolve") {
            if (a.positional.size() != 1) return fail(command, 2, "give a phone number (+E164) or a user id");
            who = a.positional[0];
        } else if (a.positional.size() == 2) {
            who = a.positional[1];
        }
        return with_client(command, a, [&](client::Client& c) {
            auto id = who.empty() ? Result<std::string>(c.profile().user_id) : c.user_id_of(who);
            if (!id) return fail(command, 2, id.status().message());
            if (id->empty()) return fail(command, 1, "this profile has no user yet: register and verify first");
            auto card = c.vcard(*id);
            if (!card) {
                if (card.status().code() == Code::kNotFound) return fail(command, 1, "no such user: " + card.status().message());
                return fail(command, 1, card.status().message());
            }
            if (a.json) print_json(vcard_json(*id, *card));
            else std::cout << vcard_text(*id, *card);
            return 0;
        });
    }
    if (command == "block" || command == "unblock" || command == "allow" || command == "disallow")
        return edit_privacy(command, a);
    if (command == "privacy") return privacy_command(a);
    if (command == "media") return media_command(a);
    if (command == "presence") return presence_command(a);
    if (command == "send" || command == "inbox" || command == "history" || command == "read" || command == "sent" ||
        command == "trust" || command == "keys")
        return with_client(command, a, [&](client::Client& c) {
            MessageOptions m;
            m.json = a.json;
            m.follow = a.vm["follow"].as<bool>();
            if (a.vm.count("file")) m.file = a.vm["file"].as<std::string>();
            if (a.vm.count("type")) m.type = a.vm["type"].as<std::string>();
            m.save_to = a.vm.count("save-to") ? std::filesystem::path(a.vm["save-to"].as<std::string>())
                                              : c.profile().dir / "files";
            return run_message_command(command, a.positional, c, m);
        });
    return fail(command, 2, "unknown command");
}

}  // namespace dhtalk::cli
