#include "client/attachment.h"

#include <chrono>
#include <fstream>
#include <thread>

#include <gnutls/crypto.h>

#include "common/files.h"
#include "common/json.h"
#include "common/msgpack_io.h"
#include "crypto/aead.h"
#include "crypto/signing.h"

namespace dhtalk::client {
namespace {

constexpr uint64_t kAttachmentFormat = 1;
constexpr size_t kIdsPerManifestChunk = kFileChunkBytes / 32;
// Manifest chunks take nonces from here on, so that no nonce serves two chunks.
constexpr uint64_t kManifestNonceBase = uint64_t{1} << 63;
constexpr std::string_view kChunkAad = "dhtalk file chunk";

crypto::AeadNonce nonce_for(uint64_t index) {
    crypto::AeadNonce n{};
    for (int i = 0; i < 8; ++i) n[4 + static_cast<size_t>(i)] = static_cast<uint8_t>(index >> (56 - 8 * i));
    return n;
}

std::span<const uint8_t> bytes_of(std::string_view s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

// SHA-256 over a stream.
class Hasher {
public:
    Hasher() {
        if (gnutls_hash_init(&h_, GNUTLS_DIG_SHA256) != 0) std::abort();
    }
    ~Hasher() {
        if (h_) gnutls_hash_deinit(h_, nullptr);
    }
    void add(std::string_view data) { gnutls_hash(h_, data.data(), data.size()); }
    std::string finish() {
        std::string out(32, '\0');
        gnutls_hash_deinit(h_, out.data());
        h_ = nullptr;
        return out;
    }

private:
    gnutls_hash_hd_t h_ = nullptr;
};

Result<std::string> seal_chunk(const crypto::Aead& aead, uint64_t index, std::string_view plain) {
    std::vector<uint8_t> out;
    DHTALK_TRY(aead.seal(nonce_for(index), bytes_of(kChunkAad), bytes_of(plain), out));
    return std::string(out.begin(), out.end());
}

Result<std::string> open_chunk(const crypto::Aead& aead, uint64_t index, std::string_view sealed) {
    std::vector<uint8_t> out;
    if (Status st = aead.open(nonce_for(index), bytes_of(kChunkAad), bytes_of(sealed), out); !st)
        return Status::corruption("a chunk of the file does not open under its key (damaged or forged)");
    return std::string(out.begin(), out.end());
}

// How far an upload got, kept in RESUME_DIR/UPLOAD.json, named after the
// file's path, size and time of change, so that a changed file starts
// over: {"key": hex, "chunks": the chunks held}. Saved every few chunks;
// what is uploaded twice is held once.
class UploadState {
public:
    UploadState(const std::filesystem::path& dir, const std::filesystem::path& file, uint64_t size) {
        if (dir.empty()) {
            key_ = crypto::random_key();
            return;
        }
        std::error_code ec;
        const auto changed = std::filesystem::last_write_time(file, ec).time_since_epoch().count();
        const std::string name = std::filesystem::absolute(file, ec).string() + "\n" + std::to_string(size) + "\n" +
                                 std::to_string(changed);
        path_ = dir / (crypto::to_hex(crypto::sha256(name)).substr(0, 32) + ".json");
        if (auto kept = read_file(path_, 4096); kept)
            if (auto j = json::parse_object(*kept); j && (*j)["key"].isString() && (*j)["chunks"].isUInt64())
                if (auto raw = crypto::from_hex((*j)["key"].asString()); raw && raw->size() == key_.size()) {
                    std::copy(raw->begin(), raw->end(), key_.begin());
                    uploaded_ = (*j)["chunks"].asUInt64();
                    return;
                }
        key_ = crypto::random_key();
    }
    const crypto::AeadKey& key() const { return key_; }
    uint64_t uploaded() const { return uploaded_; }
    void uploaded_up_to(uint64_t chunks) {
        uploaded_ = chunks;
        if (!path_.empty() && chunks % kSaveEvery == 0) save();
    }
    void finished() {
        if (!path_.empty()) std::filesystem::remove(path_);
    }

private:
    static constexpr uint64_t kSaveEvery = 16;  // 1 MiB of file
    void save() const {
        if (!ensure_private_dir(path_.parent_path())) return;  // no resume, but the upload goes on
        Json::Value j(Json::objectValue);
        j["key"] = crypto::to_hex(std::string_view(reinterpret_cast<const char*>(key_.data()), key_.size()));
        j["chunks"] = Json::UInt64(uploaded_);
        write_file_atomic(path_, json::to_compact(j), 0600).ignore_error();
    }
    std::filesystem::path path_;
    crypto::AeadKey key_{};
    uint64_t uploaded_ = 0;
};

// A media request, made again while the node answers busy (its pace for
// chunks, or its workers full), for up to half a minute.
Result<ClientFrame> media_call(const MediaCall& call, const std::string& method, const FrameParams& params) {
    using namespace std::chrono;
    const auto give_up = steady_clock::now() + seconds(30);
    for (auto wait = milliseconds(5);; wait = std::min(wait * 2, milliseconds(500))) {
        auto reply = call(method, params);
        if (reply || reply.status().code() != Code::kBusy || steady_clock::now() + wait > give_up) return reply;
        std::this_thread::sleep_for(wait);
    }
}

// Uploads one sealed chunk; its id.
Result<std::string> put_chunk(const MediaCall& call, const std::string& sealed, uint64_t file_bytes) {
    const std::string id = crypto::to_hex(crypto::sha256(sealed));
    auto reply = media_call(call, "media.put", {{"id", id}, {"data", sealed}, {"file_bytes", file_bytes}});
    if (!reply) return reply.status();
    return id;
}

// Fetches chunk `id` and checks it is the chunk that name stands for.
Result<std::string> get_chunk(const MediaCall& call, const std::string& id) {
    auto reply = media_call(call, "media.get", {{"id", id}});
    if (!reply) return reply.status();
    auto data = reply->text("data", kFileChunkBytes + 64);
    if (!data) return data.status();
    if (crypto::to_hex(crypto::sha256(*data)) != id)
        return Status::corruption("the node sent a chunk that is not the one asked for");
    return data;
}

}  // namespace

std::string encode_attachment(const Attachment& a) {
    msgpack::sbuffer buf;
    MsgpackPacker pk(buf);
    pk.pack_array(7);
    pk.pack(kAttachmentFormat);
    pack_str(pk, a.name);
    pack_str(pk, a.type);
    pk.pack(a.size);
    pack_bin(pk, a.key);
    pack_bin(pk, a.sha256);
    pack_str_list(pk, a.manifest);
    return {buf.data(), buf.size()};
}

Result<Attachment> decode_attachment(std::string_view bytes) {
    auto decoded = decode_guarded<Attachment>("attachment", [&]() -> Result<Attachment> {
        const msgpack::unpack_limit limit(/*array*/ kMaxManifestChunks, /*map*/ 0, /*str*/ kMaxAttachmentNameBytes,
                                          /*bin*/ 32, /*ext*/ 0, /*depth*/ 2);
        auto h = unpack_whole(bytes.data(), bytes.size(), limit, "attachment");
        Fields f(h.get(), 7, "attachment");
        if (f.uint(UINT64_MAX) != kAttachmentFormat) f.fail("format " + std::to_string(kAttachmentFormat));
        Attachment a;
        a.name = f.str(kMaxAttachmentNameBytes);
        a.type = f.str(128);
        a.size = f.uint(uint64_t{kMaxManifestChunks} * kIdsPerManifestChunk * kFileChunkBytes);
        a.key = f.bin(32);
        a.sha256 = f.bin(32);
        a.manifest = f.str_list(kMaxManifestChunks, 64);
        if (a.key.size() != 32 || a.sha256.size() != 32) f.fail("a 32-byte key and digest");
        const uint64_t chunks = (a.size + kFileChunkBytes - 1) / kFileChunkBytes;
        if (a.manifest.size() != std::max<uint64_t>(1, (chunks + kIdsPerManifestChunk - 1) / kIdsPerManifestChunk))
            f.fail("as many manifest chunks as the size needs");
        for (const auto& id : a.manifest)
            if (id.size() != 64 || id.find_first_not_of("0123456789abcdef") != std::string::npos) f.fail("chunk ids");
        return a;
    });
    if (!decoded) return Status::corruption(decoded.status().message());
    return decoded;
}

std::string safe_file_name(std::string_view name) {
    std::string n(name.substr(name.find_last_of("/\\") == std::string_view::npos ? 0 : name.find_last_of("/\\") + 1));
    std::string out;
    for (char c : n)
        if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f) out.push_back(c);
    if (out.size() > kMaxAttachmentNameBytes) out.resize(kMaxAttachmentNameBytes);
    if (out.empty() || out == "." || out == "..") return "attachment";
    return out;
}

Result<Attachment> upload_file(const MediaCall& call, const std::filesystem::path& path, const std::string& type,
                               uint64_t max_bytes, const Progress& progress, const std::filesystem::path& resume_dir) {
    std::error_code ec;
    const uint64_t size = std::filesystem::file_size(path, ec);
    if (ec) return Status::io_error(path.string() + ": " + ec.message());
    UploadState state(resume_dir, path, size);
    if (size > max_bytes)
        return Status::invalid(path.string() + " is " + std::to_string(size) + " bytes, over the " +
                               std::to_string(max_bytes >> 20) + " MiB a file may have");
    std::ifstream in(path, std::ios::binary);
    if (!in) return Status::io_error("cannot read " + path.string());
    Attachment a;
    a.name = safe_file_name(path.filename().string());
    a.type = type;
    a.size = size;
    const crypto::AeadKey key = state.key();  // fresh per file (kept to resume): counter nonces are safe
    a.key.assign(key.begin(), key.end());
    auto aead = crypto::Aead::create(key);
    if (!aead) return aead.status();
    Hasher hash;
    std::string ids;  // raw 32-byte ids, in order
    std::string buffer(kFileChunkBytes, '\0');
    uint64_t done = 0;
    for (uint64_t index = 0; done < size || index == 0; ++index) {
        in.read(buffer.data(), static_cast<std::streamsize>(std::min<uint64_t>(kFileChunkBytes, size - done)));
        const auto got = static_cast<size_t>(in.gcount());
        if (got == 0 && size > 0) return Status::io_error(path.string() + " shrank while it was read");
        const std::string_view plain(buffer.data(), got);
        hash.add(plain);
        auto sealed = seal_chunk(**aead, index, plain);
        if (!sealed) return sealed.status();
        if (index < state.uploaded()) {  // held already by an earlier try
            ids += crypto::sha256(*sealed);
        } else {
            auto id = put_chunk(call, *sealed, size);
            if (!id) return id.status();
            ids += *crypto::from_hex(*id);
            state.uploaded_up_to(index + 1);
        }
        done += got;
        if (progress) progress(done, size);
        if (size == 0) break;
    }
    a.sha256 = hash.finish();
    for (size_t at = 0, j = 0; at < ids.size(); at += kFileChunkBytes, ++j) {
        auto sealed = seal_chunk(**aead, kManifestNonceBase + j, std::string_view(ids).substr(at, kFileChunkBytes));
        if (!sealed) return sealed.status();
        auto id = put_chunk(call, *sealed, size);
        if (!id) return id.status();
        a.manifest.push_back(*id);
    }
    if (a.manifest.size() > kMaxManifestChunks) return Status::invalid(path.string() + " is too large to send");
    state.finished();
    return a;
}

Status download_file(const MediaCall& call, const Attachment& a, const std::filesystem::path& out,
                     const Progress& progress, const std::filesystem::path& part_path) {
    if (std::filesystem::exists(out)) return Status::invalid(out.string() + " exists already");
    crypto::AeadKey key;
    std::copy(a.key.begin(), a.key.end(), key.begin());
    auto aead = crypto::Aead::create(key);
    if (!aead) return aead.status();
    std::string ids;
    for (size_t j = 0; j < a.manifest.size(); ++j) {
        auto sealed = get_chunk(call, a.manifest[j]);
        if (!sealed) return sealed.status();
        auto plain = open_chunk(**aead, kManifestNonceBase + j, *sealed);
        if (!plain) return plain.status();
        ids += *plain;
    }
    const uint64_t chunks = std::max<uint64_t>(1, (a.size + kFileChunkBytes - 1) / kFileChunkBytes);
    if (ids.size() != chunks * 32) return Status::corruption("the file's list of chunks does not match its size");
    const std::filesystem::path part = part_path.empty() ? std::filesystem::path(out.string() + ".part") : part_path;
    // What an earlier try saved: its whole chunks count, checked with the rest.
    Hasher hash;
    uint64_t first = 0;
    {
        std::error_code ec;
        const uint64_t had = std::filesystem::exists(part) ? std::filesystem::file_size(part, ec) : 0;
        first = ec ? 0 : std::min<uint64_t>(had / kFileChunkBytes, chunks - 1);
        std::ifstream kept(part, std::ios::binary);
        std::string buffer(kFileChunkBytes, '\0');
        for (uint64_t i = 0; i < first; ++i) {
            if (!kept.read(buffer.data(), static_cast<std::streamsize>(buffer.size()))) {
                first = i;
                break;
            }
            hash.add(buffer);
        }
        std::filesystem::resize_file(part, first * kFileChunkBytes, ec);
        if (ec) first = 0;
    }
    std::ofstream file(part, std::ios::binary | (first ? std::ios::app : std::ios::trunc));
    if (!file) return Status::io_error("cannot write " + part.string());
    uint64_t done = first * kFileChunkBytes;
    for (uint64_t index = first; index < chunks; ++index) {
        auto sealed = get_chunk(call, crypto::to_hex(std::string_view(ids).substr(index * 32, 32)));
        if (!sealed) return sealed.status();
        auto plain = open_chunk(**aead, index, *sealed);
        if (!plain) return plain.status();
        const uint64_t expected = std::min<uint64_t>(kFileChunkBytes, a.size - done);
        if (plain->size() != expected) return Status::corruption("a chunk of the file has the wrong size");
        hash.add(*plain);
        file.write(plain->data(), static_cast<std::streamsize>(plain->size()));
        done += plain->size();
        if (progress) progress(done, a.size);
    }
    file.close();
    if (!file || hash.finish() != a.sha256) {
        std::filesystem::remove(part);
        return Status::corruption("the downloaded file does not match what its sender sent");
    }
    std::error_code ec;
    std::filesystem::rename(part, out, ec);
    if (ec) return Status::io_error("cannot move " + part.string() + " to " + out.string() + ": " + ec.message());
    return Status::ok();
}

}  // namespace dhtalk::client
