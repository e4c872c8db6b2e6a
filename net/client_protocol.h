#pragma once
// The client protocol's frames (docs/protocol.md): a 4-byte big-endian
// length, then msgpack
//   [version, id, kind, code, error, params]
// A request has a fresh id and its method as kind; the reply carries the
// same id, kind "reply", a code (0, or a dhtalk status code) and an error
// message when the code is not 0. Pushes from the node (later: presence,
// messages) have id 0. Params map names to text/bytes, numbers, booleans or
// lists of text. FrameReader treats its input as hostile: a frame's declared
// size is checked before anything is allocated for it. Not thread-safe.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/status.h"

namespace dhtalk {

inline constexpr uint32_t kClientProtocolVersion = 1;
inline constexpr size_t kMaxClientFrameBytes = 128 * 1024;  // what a node reads from a client
// What a client reads from a node: room for one roster epoch (1 MiB).
inline constexpr size_t kMaxNodeFrameBytes = (1 << 20) + 64 * 1024;
inline constexpr size_t kMaxFrameParams = 32;
inline constexpr size_t kMaxFrameListItems = 1000;

using FrameValue = std::variant<bool, uint64_t, std::string, std::vector<std::string>>;
using FrameParams = std::map<std::string, FrameValue>;

struct ClientFrame {
    uint64_t id = 0;
    std::string kind;   // a method, "reply", or a push kind
    uint32_t code = 0;  // replies: 0 for success, else a dhtalk::Code
    std::string error;  // replies: why, when code is not 0
    FrameParams params;

    static ClientFrame reply_to(uint64_t id, FrameParams params = {});
    static ClientFrame error_reply(uint64_t id, const Status& status);
    // The reply's code and error as a Status.
    Status status() const;

    // Typed access to params; kInvalidArgument naming the parameter.
    Result<std::string> text(const std::string& name, size_t max_bytes) const;
    Result<uint64_t> number(const std::string& name) const;
    Result<bool> flag(const std::string& name) const;
    Result<std::vector<std::string>> list(const std::string& name) const;
    bool has(const std::string& name) const { return params.count(name) != 0; }
};

// The frame with its length prefix.
std::string encode_frame(const ClientFrame& frame);

class FrameReader {
public:
    explicit FrameReader(size_t max_frame_bytes = kMaxClientFrameBytes) : max_(max_frame_bytes) {}
    // Adds received bytes. kInvalidArgument once a frame declares more than
    // the bound (the connection should then be closed).
    Status feed(std::string_view bytes);
    // The next complete frame, if any; kInvalidArgument for a malformed one.
    std::optional<Result<ClientFrame>> next();
    size_t buffered() const { return buffer_.size(); }

private:
    size_t max_;
    std::string buffer_;
};

// Decodes one frame body (without its length prefix) of at most `max_bytes`.
Result<ClientFrame> decode_frame(std::string_view body, size_t max_bytes = kMaxClientFrameBytes);

}  // namespace dhtalk
