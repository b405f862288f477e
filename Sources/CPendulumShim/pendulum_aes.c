#include "pendulum_aes.h"

#include <string.h>

#if defined(__x86_64__)
#include <emmintrin.h>
#include <wmmintrin.h>

#define AES_TARGET __attribute__((target("aes,sse2")))

int pendulum_aes_hardware_available(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("aes") ? 1 : 0;
}

AES_TARGET static __m128i expand_step(__m128i key, __m128i assist) {
    assist = _mm_shuffle_epi32(assist, _MM_SHUFFLE(3, 3, 3, 3));
    key = _mm_xor_si128(key, _mm_slli_si128(key, 4));
    key = _mm_xor_si128(key, _mm_slli_si128(key, 4));
    key = _mm_xor_si128(key, _mm_slli_si128(key, 4));
    return _mm_xor_si128(key, assist);
}

// The round constant must be an immediate, hence a macro.
#define EXPAND(previous, rcon) expand_step(previous, _mm_aeskeygenassist_si128(previous, rcon))

AES_TARGET void pendulum_aes128_expand_key(const uint8_t key[16], uint8_t schedule[PENDULUM_AES128_SCHEDULE_BYTES]) {
    __m128i rk[11];
    rk[0] = _mm_loadu_si128((const __m128i *)key);
    rk[1] = EXPAND(rk[0], 0x01);
    rk[2] = EXPAND(rk[1], 0x02);
    rk[3] = EXPAND(rk[2], 0x04);
    rk[4] = EXPAND(rk[3], 0x08);
    rk[5] = EXPAND(rk[4], 0x10);
    rk[6] = EXPAND(rk[5], 0x20);
    rk[7] = EXPAND(rk[6], 0x40);
    rk[8] = EXPAND(rk[7], 0x80);
    rk[9] = EXPAND(rk[8], 0x1b);
    rk[10] = EXPAND(rk[9], 0x36);
    for (int i = 0; i < 11; i++) _mm_storeu_si128((__m128i *)(schedule + 16 * i), rk[i]);
}

AES_TARGET static __m128i encrypt(const uint8_t *schedule, __m128i block) {
    block = _mm_xor_si128(block, _mm_loadu_si128((const __m128i *)schedule));
    for (int i = 1; i < 10; i++) block = _mm_aesenc_si128(block, _mm_loadu_si128((const __m128i *)(schedule + 16 * i)));
    return _mm_aesenclast_si128(block, _mm_loadu_si128((const __m128i *)(schedule + 160)));
}

// Multiplication by x in GF(2^128), big-endian bytes (RFC 4493's dbl).
static void doubled(const uint8_t in[16], uint8_t out[16]) {
    uint8_t carry = 0;
    for (int i = 15; i >= 0; i--) {
        uint8_t next = (uint8_t)(in[i] >> 7);
        out[i] = (uint8_t)((in[i] << 1) | carry);
        carry = next;
    }
    out[15] ^= (uint8_t)(0x87 & (0 - carry));
}

AES_TARGET void pendulum_aes128_cmac_subkeys(const uint8_t schedule[PENDULUM_AES128_SCHEDULE_BYTES], uint8_t k1[16], uint8_t k2[16]) {
    uint8_t l[16];
    _mm_storeu_si128((__m128i *)l, encrypt(schedule, _mm_setzero_si128()));
    doubled(l, k1);
    doubled(k1, k2);
    memset(l, 0, sizeof l);
}

AES_TARGET void pendulum_aes128_cmac(const uint8_t schedule[PENDULUM_AES128_SCHEDULE_BYTES], const uint8_t k1[16], const uint8_t k2[16],
                                     const uint8_t *message, size_t length, const uint8_t *xor_end, uint8_t mac[16]) {
    size_t blocks = (length + 15) / 16;
    int complete = blocks > 0 && length % 16 == 0;
    if (blocks == 0) blocks = 1;
    size_t xor_start = (xor_end != NULL && length >= 16) ? length - 16 : (size_t)-1;
    __m128i state = _mm_setzero_si128();
    uint8_t block[16];
    for (size_t b = 0; b < blocks; b++) {
        size_t start = b * 16;
        if (b + 1 < blocks && start + 16 <= xor_start) {
            // A whole block before the last and before the xorend region: straight in.
            state = encrypt(schedule, _mm_xor_si128(state, _mm_loadu_si128((const __m128i *)(message + start))));
            continue;
        }
        size_t available = length > start ? length - start : 0;
        if (available > 16) available = 16;
        for (size_t i = 0; i < 16; i++) {
            size_t at = start + i;
            uint8_t byte = 0;
            if (i < available) {
                byte = message[at];
                if (at >= xor_start) byte ^= xor_end[at - xor_start];
            } else if (i == available) {
                byte = 0x80;  // padding of an incomplete last block
            }
            block[i] = byte;
        }
        if (b == blocks - 1) {
            const uint8_t *subkey = complete ? k1 : k2;
            for (int i = 0; i < 16; i++) block[i] ^= subkey[i];
        }
        state = encrypt(schedule, _mm_xor_si128(state, _mm_loadu_si128((const __m128i *)block)));
    }
    _mm_storeu_si128((__m128i *)mac, state);
    memset(block, 0, sizeof block);
}

AES_TARGET void pendulum_aes128_ctr(const uint8_t schedule[PENDULUM_AES128_SCHEDULE_BYTES], const uint8_t counter[16],
                                    const uint8_t *input, uint8_t *output, size_t length) {
    uint64_t high = 0, low = 0;
    for (int i = 0; i < 8; i++) high = high << 8 | counter[i];
    for (int i = 8; i < 16; i++) low = low << 8 | counter[i];
    uint8_t block[16], stream[16];
    for (size_t offset = 0; offset < length; offset += 16) {
        for (int i = 0; i < 8; i++) block[i] = (uint8_t)(high >> (56 - 8 * i));
        for (int i = 0; i < 8; i++) block[8 + i] = (uint8_t)(low >> (56 - 8 * i));
        _mm_storeu_si128((__m128i *)stream, encrypt(schedule, _mm_loadu_si128((const __m128i *)block)));
        size_t count = length - offset < 16 ? length - offset : 16;
        for (size_t i = 0; i < count; i++) output[offset + i] = input[offset + i] ^ stream[i];
        low += 1;
        if (low == 0) high += 1;
    }
    memset(stream, 0, sizeof stream);
}

#else

int pendulum_aes_hardware_available(void) { return 0; }
void pendulum_aes128_expand_key(const uint8_t key[16], uint8_t schedule[PENDULUM_AES128_SCHEDULE_BYTES]) {
    (void)key;
    memset(schedule, 0, PENDULUM_AES128_SCHEDULE_BYTES);
}
void pendulum_aes128_cmac_subkeys(const uint8_t schedule[PENDULUM_AES128_SCHEDULE_BYTES], uint8_t k1[16], uint8_t k2[16]) {
    (void)schedule;
    memset(k1, 0, 16);
    memset(k2, 0, 16);
}
void pendulum_aes128_cmac(const uint8_t schedule[PENDULUM_AES128_SCHEDULE_BYTES], const uint8_t k1[16], const uint8_t k2[16],
                          const uint8_t *message, size_t length, const uint8_t *xor_end, uint8_t mac[16]) {
    (void)schedule; (void)k1; (void)k2; (void)message; (void)length; (void)xor_end;
    memset(mac, 0, 16);
}
void pendulum_aes128_ctr(const uint8_t schedule[PENDULUM_AES128_SCHEDULE_BYTES], const uint8_t counter[16],
                         const uint8_t *input, uint8_t *output, size_t length) {
    (void)schedule; (void)counter;
    if (output != input) memmove(output, input, length);
}

#endif
