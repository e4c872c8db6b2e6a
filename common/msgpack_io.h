#pragma once
// Helpers for dhtalk's msgpack wire formats: packing text and bytes, and
// Fields, a reader of one msgpack array that checks every field's type and
// bound as it goes. Decoders built on it throw DecodeError, which they catch
// in the same file and turn into a Status: it never crosses a module boundary.
// Header-only; stateless apart from the reader itself.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <msgpack.hpp>

#include "common/status.h"

namespace dhtalk {

using MsgpackPacker = msgpack::packer<msgpack::sbuffer>;

struct DecodeError {
    std::string what;
};

inline void pack_str(MsgpackPacker& pk, std::string_view s) {
    pk.pack_str(static_cast<uint32_t>(s.size()));
    pk.pack_str_body(s.data(), static_cast<uint32_t>(s.size()));
}

inline void pack_bin(MsgpackPacker& pk, std::string_view s) {
    pk.pack_bin(static_cast<uint32_t>(s.size()));
    pk.pack_bin_body(s.data(), static_cast<uint32_t>(s.size()));
}

inline void pack_str_list(MsgpackPacker& pk, const std::vector<std::string>& items) {
    pk.pack_array(static_cast<uint32_t>(items.size()));
    for (const auto& item : items) pack_str(pk, item);
}

// Unpacks the one msgpack object that `size` bytes hold. Trailing bytes are
// refused (msgpack-c's own unpack() ignores them), so that nothing rides
// along unchecked. msgpack still writes one value several ways (an integer
// in 1 to 9 bytes): a decoder whose input must have one encoding (to key a
// replay set by its bytes, say) compares it with its own re-encoding.
inline msgpack::object_handle unpack_whole(const char* data, size_t size, const msgpack::unpack_limit& limit,
                                           const char* what) {
    std::size_t used = 0;
    auto handle = msgpack::unpack(data, size, used, nullptr, nullptr, limit);
    if (used != size)
        throw DecodeError{std::string(what) + " has " + std::to_string(size - used) + " trailing bytes"};
    return handle;
}

// Reads the fields of one msgpack array of exactly `count` elements, in order.
class Fields {
public:
    Fields(const msgpack::object& o, uint32_t count, const char* what) : what_(what) {
        if (o.type != msgpack::type::ARRAY || o.via.array.size != count)
            throw DecodeError{std::string(what) + " is not an array of " + std::to_string(count)};
        a_ = &o.via.array;
    }
    const msgpack::object& next() { return a_->ptr[i_++]; }
    std::string str(size_t max) {
        const auto& o = next();
        if (o.type != msgpack::type::STR) fail("a text field");
        if (o.via.str.size > max) fail("a text field over " + std::to_string(max) + " bytes");
        return {o.via.str.ptr, o.via.str.size};
    }
    std::string bin(size_t max) {
        const auto& o = next();
        if (o.type != msgpack::type::BIN) fail("a binary field");
        if (o.via.bin.size > max) fail("a binary field over " + std::to_string(max) + " bytes");
        return {o.via.bin.ptr, o.via.bin.size};
    }
    uint64_t uint(uint64_t max) {
        const auto& o = next();
        if (o.type != msgpack::type::POSITIVE_INTEGER || o.via.u64 > max) fail("a number in range");
        return o.via.u64;
    }
    int64_t sint() {
        const auto& o = next();
        if (o.type == msgpack::type::POSITIVE_INTEGER && o.via.u64 <= INT64_MAX) return static_cast<int64_t>(o.via.u64);
        if (o.type == msgpack::type::NEGATIVE_INTEGER) return o.via.i64;
        fail("an integer");
    }
    bool boolean() {
        const auto& o = next();
        if (o.type != msgpack::type::BOOLEAN) fail("true or false");
        return o.via.boolean;
    }
    // A list of at most `max_items` texts of at most `max_bytes` each.
    std::vector<std::string> str_list(size_t max_items, size_t max_bytes) {
        std::vector<std::string> out;
        for (const auto& o : array(max_items)) {
            if (o.type != msgpack::type::STR || o.via.str.size > max_bytes) fail("a list of short texts");
            out.emplace_back(o.via.str.ptr, o.via.str.size);
        }
        return out;
    }
    // An array of at most `max` elements.
    const msgpack::object_array& array(size_t max) {
        const auto& o = next();
        if (o.type != msgpack::type::ARRAY) fail("a list");
        if (o.via.array.size > max) fail("a list of more than " + std::to_string(max));
        return o.via.array;
    }
    [[noreturn]] void fail(const std::string& expected) const {
        throw DecodeError{std::string(what_) + ": field " + std::to_string(i_) + " is not " + expected};
    }

private:
    const char* what_;
    const msgpack::object_array* a_ = nullptr;
    uint32_t i_ = 0;
};

// Runs `decode`, a decoder of outside input, and turns each way it can fail
// (a DecodeError, msgpack-c's own exceptions) into kInvalidArgument: the
// decoder's words, or "malformed `what`: ...".
template <class T, class F>
Result<T> decode_guarded(const char* what, F&& decode) {
    try {
        return decode();
    } catch (const DecodeError& e) {
        return Status::invalid(e.what);
    } catch (const std::exception& e) {
        return Status::invalid(std::string("malformed ") + what + ": " + e.what());
    }
}

}  // namespace dhtalk
