#pragma once
// Signed documents as dhtalk writes them (roster documents, registrar
// messages): msgpack `[format_version, body, signature]`, where `body` is
// the msgpack of the document's fields, the bytes its author signed. This
// packs and unpacks the envelope; each document type reads its own body
// and checks its own signature. Header-only.

#include <cstdint>
#include <string>
#include <string_view>

#include "common/msgpack_io.h"

namespace dhtalk {

inline constexpr size_t kMaxSignatureBytes = 1024;  // RSA-8192

struct SignedFormat {
    uint64_t version = 0;
    size_t max_bytes = 0;          // the whole document
    msgpack::unpack_limit limit;   // for the envelope and the body
    const char* older_hint = "";   // appended to the error for a document of an older version
    const char* newer_hint = "";   // and of a newer one
};

inline std::string pack_signed(uint64_t version, std::string_view body, std::string_view signature) {
    msgpack::sbuffer buf;
    MsgpackPacker pk(buf);
    pk.pack_array(3);
    pk.pack(version);
    pack_bin(pk, body);
    pack_bin(pk, signature);
    return {buf.data(), buf.size()};
}

struct SignedParts {
    msgpack::object_handle body;
    std::string signature;
};

// Throws DecodeError (decode_guarded() turns it into a Status).
inline SignedParts unpack_signed(std::string_view bytes, const SignedFormat& format, const char* what) {
    if (bytes.size() > format.max_bytes)
        throw DecodeError{std::string(what) + " of " + std::to_string(bytes.size()) + " bytes exceeds the bound"};
    auto outer = unpack_whole(bytes.data(), bytes.size(), format.limit, what);
    const auto& o = outer.get();
    if (o.type != msgpack::type::ARRAY || o.via.array.size != 3)
        throw DecodeError{std::string(what) + " is not [version, body, signature]"};
    const auto& v = o.via.array.ptr[0];
    if (v.type != msgpack::type::POSITIVE_INTEGER) throw DecodeError{std::string(what) + " has no format version"};
    if (v.via.u64 != format.version)
        throw DecodeError{std::string(what) + " has format version " + std::to_string(v.via.u64) + "; this node reads " +
                          std::to_string(format.version) +
                          (v.via.u64 < format.version ? format.older_hint : format.newer_hint)};
    const auto& body = o.via.array.ptr[1];
    const auto& sig = o.via.array.ptr[2];
    if (body.type != msgpack::type::BIN || sig.type != msgpack::type::BIN || sig.via.bin.size > kMaxSignatureBytes)
        throw DecodeError{std::string(what) + " has a malformed body or signature"};
    SignedParts parts;
    parts.signature.assign(sig.via.bin.ptr, sig.via.bin.size);
    parts.body = unpack_whole(body.via.bin.ptr, body.via.bin.size, format.limit, what);
    return parts;
}

}  // namespace dhtalk
