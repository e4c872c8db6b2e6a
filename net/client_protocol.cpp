#include "net/client_protocol.h"

#include "common/msgpack_io.h"

namespace dhtalk {
namespace {

msgpack::unpack_limit frame_limit(size_t max_bytes) {
    return msgpack::unpack_limit(/*array*/ kMaxFrameListItems, /*map*/ kMaxFrameParams, /*str*/ max_bytes,
                                 /*bin*/ max_bytes, /*ext*/ 0, /*depth*/ 4);
}

std::string as_string(const msgpack::object& o, const std::string& name) {
    if (o.type == msgpack::type::STR) return {o.via.str.ptr, o.via.str.size};
    if (o.type == msgpack::type::BIN) return {o.via.bin.ptr, o.via.bin.size};
    throw DecodeError{"parameter '" + name + "' holds an unsupported value"};
}

FrameValue read_value(const msgpack::object& o, const std::string& name) {
    switch (o.type) {
    case msgpack::type::BOOLEAN: return o.via.boolean;
    case msgpack::type::POSITIVE_INTEGER: return o.via.u64;
    case msgpack::type::ARRAY: {
        std::vector<std::string> items;
        items.reserve(o.via.array.size);
        for (uint32_t i = 0; i < o.via.array.size; ++i) items.push_back(as_string(o.via.array.ptr[i], name));
        return items;
    }
    default: return as_string(o, name);
    }
}

Status missing(const std::string& name, const char* what) {
    return Status::invalid("parameter '" + name + "' is missing or not " + what);
}

}  // namespace

ClientFrame ClientFrame::reply_to(uint64_t id, FrameParams params) {
    ClientFrame f;
    f.id = id;
    f.kind = "reply";
    f.params = std::move(params);
    return f;
}

ClientFrame ClientFrame::error_reply(uint64_t id, const Status& status) {
    ClientFrame f = reply_to(id);
    f.code = static_cast<uint32_t>(status.code());
    f.error = status.message();
    return f;
}

Status ClientFrame::status() const {
    if (code == 0) return Status::ok();
    if (code > static_cast<uint32_t>(Code::kInternal)) return Status::internal(error);
    return Status(static_cast<Code>(code), error);
}

Result<std::string> ClientFrame::text(const std::string& name, size_t max_bytes) const {
    auto it = params.find(name);
    if (it == params.end() || !std::holds_alternative<std::string>(it->second)) return missing(name, "text");
    const auto& s = std::get<std::string>(it->second);
    if (s.size() > max_bytes)
        return Status::invalid("parameter '" + name + "' is longer than " + std::to_string(max_bytes) + " bytes");
    return s;
}

Result<uint64_t> ClientFrame::number(const std::string& name) const {
    auto it = params.find(name);
    if (it == params.end() || !std::holds_alternative<uint64_t>(it->second)) return missing(name, "a number");
    return std::get<uint64_t>(it->second);
}

Result<bool> ClientFrame::flag(const std::string& name) const {
    auto it = params.find(name);
    if (it == params.end() || !std::holds_alternative<bool>(it->second)) return missing(name, "true or false");
    return std::get<bool>(it->second);
}

Result<std::vector<std::string>> ClientFrame::list(const std::string& name) const {
    auto it = params.find(name);
    if (it == params.end() || !std::holds_alternative<std::vector<std::string>>(it->second))
        return missing(name, "a list");
    return std::get<std::vector<std::string>>(it->second);
}

std::string encode_frame(const ClientFrame& f) {
    msgpack::sbuffer buf;
    buf.write("\0\0\0\0", 4);  // the length, filled in below
    MsgpackPacker pk(buf);
    pk.pack_array(6);
    pk.pack(kClientProtocolVersion);
    pk.pack(f.id);
    pack_str(pk, f.kind);
    pk.pack(f.code);
    pack_str(pk, f.error);
    pk.pack_map(static_cast<uint32_t>(f.params.size()));
    for (const auto& [name, value] : f.params) {
        pack_str(pk, name);
        std::visit(
            [&](const auto& v) {
                using T = std::decay_t<decltype(v)>;
                if constexpr (std::is_same_v<T, std::string>) {
                    pack_bin(pk, v);
                } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
                    pk.pack_array(static_cast<uint32_t>(v.size()));
                    for (const auto& s : v) pack_bin(pk, s);
                } else {
                    pk.pack(v);
                }
            },
            value);
    }
    std::string out(buf.data(), buf.size());
    const uint32_t n = static_cast<uint32_t>(out.size() - 4);
    for (int i = 0; i < 4; ++i) out[i] = static_cast<char>((n >> (24 - 8 * i)) & 0xff);
    return out;
}

Result<ClientFrame> decode_frame(std::string_view body, size_t max_bytes) {
    if (body.size() > max_bytes) return Status::invalid("the frame exceeds the size bound");
    try {
        auto h = unpack_whole(body.data(), body.size(), frame_limit(max_bytes), "frame");
        const auto& o = h.get();
        if (o.type != msgpack::type::ARRAY || o.via.array.size != 6 ||
            o.via.array.ptr[0].type != msgpack::type::POSITIVE_INTEGER)
            return Status::invalid("a frame is [version, id, kind, code, error, params]");
        if (o.via.array.ptr[0].via.u64 != kClientProtocolVersion)
            return Status::invalid("protocol version " + std::to_string(o.via.array.ptr[0].via.u64) +
                                   " is not supported; this node speaks version " +
                                   std::to_string(kClientProtocolVersion));
        Fields fields(o, 6, "frame");
        fields.next();
        ClientFrame f;
        f.id = fields.uint(UINT64_MAX);
        f.kind = fields.str(64);
        f.code = static_cast<uint32_t>(fields.uint(UINT32_MAX));
        f.error = fields.str(4096);
        const auto& map = fields.next();
        if (map.type != msgpack::type::MAP) return Status::invalid("a frame's params are not a map");
        for (uint32_t i = 0; i < map.via.map.size; ++i) {
            const auto& kv = map.via.map.ptr[i];
            if (kv.key.type != msgpack::type::STR || kv.key.via.str.size > 64)
                return Status::invalid("a frame has a malformed parameter name");
            std::string name(kv.key.via.str.ptr, kv.key.via.str.size);
            f.params[name] = read_value(kv.val, name);
        }
        return f;
    } catch (const DecodeError& e) {
        return Status::invalid(e.what);
    } catch (const std::exception& e) {
        return Status::invalid(std::string("a frame is not valid msgpack: ") + e.what());
    }
}

Status FrameReader::feed(std::string_view bytes) {
    buffer_.append(bytes);
    if (buffer_.size() >= 4) {
        const auto* p = reinterpret_cast<const unsigned char*>(buffer_.data());
        const size_t declared = (size_t(p[0]) << 24) | (size_t(p[1]) << 16) | (size_t(p[2]) << 8) | p[3];
        if (declared > max_)
            return Status::invalid("a frame declares " + std::to_string(declared) + " bytes; the bound is " +
                                   std::to_string(max_));
    }
    return Status::ok();
}

std::optional<Result<ClientFrame>> FrameReader::next() {
    if (buffer_.size() < 4) return std::nullopt;
    const auto* p = reinterpret_cast<const unsigned char*>(buffer_.data());
    const size_t declared = (size_t(p[0]) << 24) | (size_t(p[1]) << 16) | (size_t(p[2]) << 8) | p[3];
    if (declared > max_) return Result<ClientFrame>(Status::invalid("a frame exceeds the size bound"));
    if (buffer_.size() < 4 + declared) return std::nullopt;
    auto frame = decode_frame(std::string_view(buffer_).substr(4, declared), max_);
    buffer_.erase(0, 4 + declared);
    return frame;
}

}  // namespace dhtalk
