// AES-128 block operations on the processor's AES instructions, for AES-SIV's CMAC and CTR
// on the NTS serving path (swift-crypto's wrappers set up a key and allocate on every call).
// Only used when `pendulum_aes_hardware_available()` says so; all functions are
// allocation-free and constant-time (the AES instructions are).
#ifndef PENDULUM_AES_H
#define PENDULUM_AES_H

#include <stddef.h>
#include <stdint.h>

/// Bytes of an expanded AES-128 key (11 round keys).
#define PENDULUM_AES128_SCHEDULE_BYTES 176

/// 1 when the processor has AES-NI (x86-64), else 0.
int pendulum_aes_hardware_available(void);

/// Expands a 16-byte key. Call only when hardware is available.
void pendulum_aes128_expand_key(const uint8_t key[16], uint8_t schedule[PENDULUM_AES128_SCHEDULE_BYTES]);

/// CMAC's subkeys K1 and K2 (RFC 4493 §2.3) for an expanded key.
void pendulum_aes128_cmac_subkeys(const uint8_t schedule[PENDULUM_AES128_SCHEDULE_BYTES], uint8_t k1[16], uint8_t k2[16]);

/// AES-CMAC (RFC 4493) of `message`. With `xor_end` (16 bytes) and `length` >= 16, the MAC is of
/// the message with its last 16 bytes xored with `xor_end` (RFC 5297's xorend), without copying.
void pendulum_aes128_cmac(const uint8_t schedule[PENDULUM_AES128_SCHEDULE_BYTES], const uint8_t k1[16], const uint8_t k2[16],
                          const uint8_t *message, size_t length, const uint8_t *xor_end, uint8_t mac[16]);

/// AES-CTR with a 128-bit big-endian counter starting at `counter`; `input` and `output` may be
/// the same buffer.
void pendulum_aes128_ctr(const uint8_t schedule[PENDULUM_AES128_SCHEDULE_BYTES], const uint8_t counter[16],
                         const uint8_t *input, uint8_t *output, size_t length);

#endif
