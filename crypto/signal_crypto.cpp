#include "crypto/signal_crypto.h"

#include <cstring>
#include <string>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <signal_protocol.h>

namespace dhtalk::crypto {
namespace {

constexpr size_t kAesBlock = 16;

int random_bytes(uint8_t* data, size_t len, void*) {
    return gnutls_rnd(GNUTLS_RND_KEY, data, len) == 0 ? SG_SUCCESS : SG_ERR_UNKNOWN;
}

int hmac_init(void** context, const uint8_t* key, size_t key_len, void*) {
    gnutls_hmac_hd_t h = nullptr;
    if (gnutls_hmac_init(&h, GNUTLS_MAC_SHA256, key, key_len) != 0) return SG_ERR_UNKNOWN;
    *context = h;
    return SG_SUCCESS;
}

int hmac_update(void* context, const uint8_t* data, size_t len, void*) {
    return gnutls_hmac(static_cast<gnutls_hmac_hd_t>(context), data, len) == 0 ? SG_SUCCESS : SG_ERR_UNKNOWN;
}

int hmac_final(void* context, signal_buffer** output, void*) {
    signal_buffer* out = signal_buffer_alloc(gnutls_hmac_get_len(GNUTLS_MAC_SHA256));
    if (!out) return SG_ERR_NOMEM;
    gnutls_hmac_output(static_cast<gnutls_hmac_hd_t>(context), signal_buffer_data(out));
    *output = out;
    return SG_SUCCESS;
}

void hmac_cleanup(void* context, void*) {
    if (context) gnutls_hmac_deinit(static_cast<gnutls_hmac_hd_t>(context), nullptr);
}

int sha512_init(void** context, void*) {
    gnutls_hash_hd_t h = nullptr;
    if (gnutls_hash_init(&h, GNUTLS_DIG_SHA512) != 0) return SG_ERR_UNKNOWN;
    *context = h;
    return SG_SUCCESS;
}

int sha512_update(void* context, const uint8_t* data, size_t len, void*) {
    return gnutls_hash(static_cast<gnutls_hash_hd_t>(context), data, len) == 0 ? SG_SUCCESS : SG_ERR_UNKNOWN;
}

// gnutls_hash_output also resets the state, as the library expects.
int sha512_final(void* context, signal_buffer** output, void*) {
    signal_buffer* out = signal_buffer_alloc(gnutls_hash_get_len(GNUTLS_DIG_SHA512));
    if (!out) return SG_ERR_NOMEM;
    gnutls_hash_output(static_cast<gnutls_hash_hd_t>(context), signal_buffer_data(out));
    *output = out;
    return SG_SUCCESS;
}

void sha512_cleanup(void* context, void*) {
    if (context) gnutls_hash_deinit(static_cast<gnutls_hash_hd_t>(context), nullptr);
}

// AES-CBC with PKCS#5 padding, one call each way. `input` is already padded
// when encrypting.
int aes_cbc(bool encrypt, signal_buffer** output, int cipher, const uint8_t* key, size_t key_len, const uint8_t* iv,
            size_t iv_len, const uint8_t* input, size_t input_len) {
    if (cipher != SG_CIPHER_AES_CBC_PKCS5) return SG_ERR_INVAL;
    gnutls_cipher_algorithm_t algorithm = key_len == 32   ? GNUTLS_CIPHER_AES_256_CBC
                                          : key_len == 24 ? GNUTLS_CIPHER_AES_192_CBC
                                          : key_len == 16 ? GNUTLS_CIPHER_AES_128_CBC
                                                          : GNUTLS_CIPHER_UNKNOWN;
    if (algorithm == GNUTLS_CIPHER_UNKNOWN || iv_len != kAesBlock) return SG_ERR_INVAL;
    if (input_len == 0 || input_len % kAesBlock != 0) return SG_ERR_INVAL;
    gnutls_datum_t k{const_cast<uint8_t*>(key), static_cast<unsigned>(key_len)};
    gnutls_datum_t v{const_cast<uint8_t*>(iv), static_cast<unsigned>(iv_len)};
    gnutls_cipher_hd_t h = nullptr;
    if (gnutls_cipher_init(&h, algorithm, &k, &v) != 0) return SG_ERR_UNKNOWN;
    signal_buffer* out = signal_buffer_alloc(input_len);
    if (!out) {
        gnutls_cipher_deinit(h);
        return SG_ERR_NOMEM;
    }
    const int rc = encrypt ? gnutls_cipher_encrypt2(h, input, input_len, signal_buffer_data(out), input_len)
                           : gnutls_cipher_decrypt2(h, input, input_len, signal_buffer_data(out), input_len);
    gnutls_cipher_deinit(h);
    if (rc != 0) {
        signal_buffer_bzero_free(out);
        return SG_ERR_UNKNOWN;
    }
    *output = out;
    return SG_SUCCESS;
}

int encrypt(signal_buffer** output, int cipher, const uint8_t* key, size_t key_len, const uint8_t* iv, size_t iv_len,
            const uint8_t* plaintext, size_t plaintext_len, void*) {
    const size_t pad = kAesBlock - plaintext_len % kAesBlock;
    std::string padded(plaintext_len + pad, static_cast<char>(pad));
    if (plaintext_len) std::memcpy(padded.data(), plaintext, plaintext_len);
    const int rc = aes_cbc(true, output, cipher, key, key_len, iv, iv_len,
                           reinterpret_cast<const uint8_t*>(padded.data()), padded.size());
    gnutls_memset(padded.data(), 0, padded.size());
    return rc;
}

int decrypt(signal_buffer** output, int cipher, const uint8_t* key, size_t key_len, const uint8_t* iv, size_t iv_len,
            const uint8_t* ciphertext, size_t ciphertext_len, void*) {
    signal_buffer* padded = nullptr;
    if (int rc = aes_cbc(false, &padded, cipher, key, key_len, iv, iv_len, ciphertext, ciphertext_len); rc < 0)
        return rc;
    const uint8_t* data = signal_buffer_data(padded);
    const size_t len = signal_buffer_len(padded);
    const uint8_t pad = data[len - 1];
    bool good = pad >= 1 && pad <= kAesBlock;
    for (size_t i = 0; good && i < pad; ++i) good = data[len - 1 - i] == pad;
    if (!good) {
        signal_buffer_bzero_free(padded);
        return SG_ERR_INVALID_MESSAGE;
    }
    signal_buffer* out = signal_buffer_create(data, len - pad);
    signal_buffer_bzero_free(padded);
    if (!out) return SG_ERR_NOMEM;
    *output = out;
    return SG_SUCCESS;
}

}  // namespace

Result<std::unique_ptr<SignalContext>> SignalContext::create() {
    std::unique_ptr<SignalContext> c(new SignalContext());
    if (signal_context_create(&c->context_, nullptr) != 0) return Status::internal("cannot create a Signal protocol context");
    signal_crypto_provider provider{};
    provider.random_func = random_bytes;
    provider.hmac_sha256_init_func = hmac_init;
    provider.hmac_sha256_update_func = hmac_update;
    provider.hmac_sha256_final_func = hmac_final;
    provider.hmac_sha256_cleanup_func = hmac_cleanup;
    provider.sha512_digest_init_func = sha512_init;
    provider.sha512_digest_update_func = sha512_update;
    provider.sha512_digest_final_func = sha512_final;
    provider.sha512_digest_cleanup_func = sha512_cleanup;
    provider.encrypt_func = encrypt;
    provider.decrypt_func = decrypt;
    if (signal_context_set_crypto_provider(c->context_, &provider) != 0)
        return Status::internal("cannot give the Signal protocol its primitives");
    return c;
}

SignalContext::~SignalContext() {
    if (context_) signal_context_destroy(context_);
}

const char* signal_error_name(int code) {
    switch (code) {
    case SG_ERR_NOMEM: return "out of memory";
    case SG_ERR_INVAL: return "invalid argument";
    case SG_ERR_DUPLICATE_MESSAGE: return "a message already decrypted";
    case SG_ERR_INVALID_KEY: return "invalid key";
    case SG_ERR_INVALID_KEY_ID: return "unknown pre-key";
    case SG_ERR_INVALID_MAC: return "invalid MAC";
    case SG_ERR_INVALID_MESSAGE: return "invalid message";
    case SG_ERR_INVALID_VERSION: return "unsupported protocol version";
    case SG_ERR_LEGACY_MESSAGE: return "legacy message";
    case SG_ERR_NO_SESSION: return "no session";
    case SG_ERR_STALE_KEY_EXCHANGE: return "stale key exchange";
    case SG_ERR_UNTRUSTED_IDENTITY: return "untrusted identity key";
    case SG_ERR_VRF_SIG_VERIF_FAILED: return "signature check failed";
    case SG_ERR_INVALID_PROTO_BUF: return "malformed message";
    default: return "Signal protocol error";
    }
}

}  // namespace dhtalk::crypto
