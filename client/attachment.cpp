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

// Chunks in flight at once: the node moves a window together.
constexpr size_t kWindow = 8;

// Media requests of one method, sent as a batch; those the node answers
// busy (its pace for chunks, or its workers full) are sent again after a
// short wait, for up to half a minute. The replies in order, every one ok;
// else the first refusal.
Result<std::vector<ClientFrame>> media_batch(const MediaCall& call, const std::string& method,
                                             const std::vector<FrameParams>& params) {
    using namespace std::chrono;
    std::vector<ClientFrame> out(params.size());
    std::vector<size_t> pending(params.size());
    for (size_t i = 0; i < pending.size(); ++i) pending[i] = i;
    const auto give_up = steady_clock::now() + seconds(30);
    for (auto wait = milliseconds(5); !pending.empty(); wait = std::min(wait * 2, milliseconds(500))) {
        std::vector<FrameParams> batch;
        for (size_t i : pending) batch.push_back(params[i]);
        auto replies = call(method, std::move(batch));
        if (!replies) return replies.status();
        if (replies->size() != pending.size()) return Status::internal("a batch came back with another count");
        std::vector<size_t> busy;
        for (size_t k = 0; k < pending.size(); ++k) {
            Status st = (*replies)[k].status();
            if (st.code() == Code::kBusy) busy.push_back(pending[k]);
            else if (!st) return st;
            else out[pending[k]] = std::move((*replies)[k]);
        }
        if (!busy.empty() && steady_clock::now() + wait > give_up)
            return Status::busy("the node stayed busy for half a minute: try again later");
        if (!busy.empty()) std::this_thread::sleep_for(wait);
        pending = std::move(busy);
    }
    return out;
}

// Uploads sealed chunks; appends their raw ids, in order, to `ids`.
Status put_chunks(const MediaCall& call, const std::vector<std::string>& sealed, uint64_t file_bytes,
                  std::string& ids) {
    std::vector<FrameParams> params;
    std::string raw;
    for (const auto& chunk : sealed) {
        const std::string id = crypto::sha256(chunk);
        raw += id;
        params.push_back({{"id", crypto::to_hex(id)}, {"data", chunk}, {"file_bytes", file_bytes}});
    }
    DHTALK_TRY(media_batch(call, "media.put", params).status());
    ids += raw;
    return Status::ok();
}

// Fetches chunks by id (hex), each checked to be the chunk its name stands for.
Result<std::vector<std::string>> get_chunks(const MediaCall& call, const std::vector<std::string>& ids) {
    std::vector<FrameParams> params;
    for (const auto& id : ids) params.push_back({{"id", id}});
    auto replies = media_batch(call, "media.get", params);
    if (!replies) return replies.status();
    std::vector<std::string> out;
    for (size_t i = 0; i < ids.size(); ++i) {
        auto data = (*replies)[i].text("data", kFileChunkBytes + 64);
        if (!data) return data.status();
        if (crypto::to_hex(crypto::sha256(*data)) != ids[i])
            return Status::corruption("the node sent a chunk that is not the one asked for");
        out.push_back(std::move(data).value());
    }
    return out;
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
    std::vector<std::string> window;  // sealed, not sent yet
    uint64_t read = 0;
    for (uint64_t index = 0; read < size || index == 0; ++index) {
        in.read(buffer.data(), static_cast<std::streamsize>(std::min<uint64_t>(kFileChunkBytes, size - read)));
        const auto got = static_cast<size_t>(in.gcount());
        if (got == 0 && size > 0) return Status::io_error(path.string() + " shrank while it was read");
        const std::string_view plain(buffer.data(), got);
        hash.add(plain);
        read += got;
        auto sealed = seal_chunk(**aead, index, plain);
        if (!sealed) return sealed.status();
        const bool last = read >= size;
        if (index < state.uploaded()) {  // held already by an earlier try
            ids += crypto::sha256(*sealed);
            continue;
        }
        window.push_back(std::move(sealed).value());
        if (window.size() == kWindow || last) {
            DHTALK_TRY(put_chunks(call, window, size, ids));
            window.clear();
            state.uploaded_up_to(index + 1);
            if (progress) progress(read, size);
        }
        if (size == 0) break;
    }
    a.sha256 = hash.finish();
    std::vector<std::string> manifest;
    for (size_t at = 0, j = 0; at < ids.size(); at += kFileChunkBytes, ++j) {
        auto sealed = seal_chunk(**aead, kManifestNonceBase + j, std::string_view(ids).substr(at, kFileChunkBytes));
        if (!sealed) return sealed.status();
        manifest.push_back(std::move(sealed).value());
    }
    std::string manifest_ids;
    DHTALK_TRY(put_chunks(call, manifest, size, manifest_ids));
    for (size_t at = 0; at < manifest_ids.size(); at += 32)
        a.manifest.push_back(crypto::to_hex(std::string_view(manifest_ids).substr(at, 32)));
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
    auto manifest = get_chunks(call, a.manifest);
    if (!manifest) return manifest.status();
    for (size_t j = 0; j < manifest->size(); ++j) {
        auto plain = open_chunk(**aead, kManifestNonceBase + j, (*manifest)[j]);
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
    for (uint64_t index = first; index < chunks;) {
        std::vector<std::string> wanted;
        for (uint64_t i = index; i < chunks && wanted.size() < kWindow; ++i)
            wanted.push_back(crypto::to_hex(std::string_view(ids).substr(i * 32, 32)));
        auto sealed = get_chunks(call, wanted);
        if (!sealed) return sealed.status();
        for (const auto& chunk : *sealed) {
            auto plain = open_chunk(**aead, index++, chunk);
            if (!plain) return plain.status();
            const uint64_t expected = std::min<uint64_t>(kFileChunkBytes, a.size - done);
            if (plain->size() != expected) return Status::corruption("a chunk of the file has the wrong size");
            hash.add(*plain);
            file.write(plain->data(), static_cast<std::streamsize>(plain->size()));
            done += plain->size();
        }
        file.flush();  // what is written counts when a later try goes on from here
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
