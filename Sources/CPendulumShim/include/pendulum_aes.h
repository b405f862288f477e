// AES-SIV-CMAC-256 on the processor's AES instructions, for the NTS serving path: swift-crypto
// has no AES-SIV, and its CMAC and CTR wrappers set up a key and allocate on every call, which
// at hundreds of thousands of requests a second costs more than the cipher. Only used when
// `pendulum_aes_hardware_available()` says so; all functions are allocation-free and their
// timing depends on lengths only, never on key or data (the AES instructions are constant-time).
#ifndef PENDULUM_AES_H
#define PENDULUM_AES_H

#include <stddef.h>
#include <stdint.h>

/// Bytes of an expanded AES-128 key (11 round keys).
#define PENDULUM_AES128_SCHEDULE_BYTES 176

/// 1 when the processor has AES-NI (x86-64), else 0.
int pendulum_aes_hardware_available(void);

/// AEAD_AES_SIV_CMAC_256 (RFC 5297 with NTS's two associated-data components: associated data,
/// then nonce) keyed once: both AES-128 halves expanded, CMAC's subkeys, and CMAC(K1, 0^128),
/// the start of every S2V chain. A plain value, so a serving thread can hold a per-request key
/// on its stack instead of allocating one.
typedef struct pendulum_siv_cmac_256_key {
    uint8_t mac_schedule[PENDULUM_AES128_SCHEDULE_BYTES];
    uint8_t ctr_schedule[PENDULUM_AES128_SCHEDULE_BYTES];
    uint8_t k1[16];
    uint8_t k2[16];
    uint8_t zero_mac[16];
} pendulum_siv_cmac_256_key;

/// Keys `key` with 32 bytes of material (K1 for S2V, K2 for CTR). Call only when hardware is available.
void pendulum_siv_cmac_256_init(pendulum_siv_cmac_256_key *key, const uint8_t material[32]);

/// AES-CMAC (RFC 4493) with K1 of `message`. With `xor_end` (16 bytes) and `length` >= 16, the
/// MAC is of the message with its last 16 bytes xored with `xor_end` (RFC 5297's xorend),
/// without copying. For S2V with more associated-data components than NTS uses.
void pendulum_siv_cmac_256_mac(const pendulum_siv_cmac_256_key *key, const uint8_t *message, size_t length, const uint8_t *xor_end, uint8_t mac[16]);

/// AES-CTR with K2 and a 128-bit big-endian counter starting at `counter`; `input` and
/// `output` may be the same buffer.
void pendulum_siv_cmac_256_ctr(const pendulum_siv_cmac_256_key *key, const uint8_t counter[16], const uint8_t *input, uint8_t *output, size_t length);

/// Overwrites a key that is no longer needed.
void pendulum_siv_cmac_256_clear(pendulum_siv_cmac_256_key *key);

/// Seals `text` in place: `tag` receives the synthetic IV (S2V over associated data, nonce and
/// the plaintext), and `text` becomes the ciphertext. The wire form is tag ‖ ciphertext.
void pendulum_siv_cmac_256_seal(const pendulum_siv_cmac_256_key *key, const uint8_t *associated_data, size_t associated_data_length,
                                const uint8_t *nonce, size_t nonce_length, uint8_t *text, size_t length, uint8_t tag[16]);

/// Opens tag ‖ ciphertext: decrypts `ciphertext` into `plaintext` (which may be the same
/// buffer) and returns 1 when the tag is authentic. Otherwise returns 0 and `plaintext` is
/// zeroed, so nothing unauthenticated is left behind.
int pendulum_siv_cmac_256_open(const pendulum_siv_cmac_256_key *key, const uint8_t *associated_data, size_t associated_data_length,
                               const uint8_t *nonce, size_t nonce_length, const uint8_t tag[16], const uint8_t *ciphertext,
                               uint8_t *plaintext, size_t length);

#endif
