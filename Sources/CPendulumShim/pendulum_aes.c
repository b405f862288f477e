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

AES_TARGET static void expand_key(const uint8_t key[16], uint8_t schedule[PENDULUM_AES128_SCHEDULE_BYTES]) {
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

// Key material must not outlive its use; a call through a volatile pointer is not optimised away.
static void *(*const volatile wipe)(void *, int, size_t) = memset;

AES_TARGET static void cmac_subkeys(const uint8_t schedule[PENDULUM_AES128_SCHEDULE_BYTES], uint8_t k1[16], uint8_t k2[16]) {
    uint8_t l[16];
    _mm_storeu_si128((__m128i *)l, encrypt(schedule, _mm_setzero_si128()));
    doubled(l, k1);
    doubled(k1, k2);
    wipe(l, 0, sizeof l);
}

// One CMAC input block starting at `start` with `available` (0–16) message bytes: the bytes at
// or after `xor_start` xored with `xor_end`, an incomplete block padded with 0x80 0….
AES_TARGET static __m128i merged_block(const uint8_t *message, size_t start, size_t available, const uint8_t *xor_end, size_t xor_start) {
    uint8_t block[16];
    for (size_t i = 0; i < 16; i++) {
        size_t at = start + i;
        uint8_t byte = 0;
        if (i < available) {
            byte = message[at];
            if (at >= xor_start) byte ^= xor_end[at - xor_start];
        } else if (i == available) {
            byte = 0x80;
        }
        block[i] = byte;
    }
    return _mm_loadu_si128((const __m128i *)block);
}

// AES-CMAC (RFC 4493); with `xor_end` and at least 16 bytes, of the message whose last 16
// bytes are xored with it (RFC 5297's xorend) without copying the message.
AES_TARGET static __m128i cmac(const uint8_t *schedule, const uint8_t k1[16], const uint8_t k2[16],
                               const uint8_t *message, size_t length, const uint8_t *xor_end) {
    size_t blocks = length == 0 ? 1 : (length + 15) / 16;
    size_t xor_start = (xor_end != NULL && length >= 16) ? length - 16 : SIZE_MAX;
    __m128i state = _mm_setzero_si128();
    for (size_t b = 0; b + 1 < blocks; b++) {
        size_t start = b * 16;
        __m128i input = start + 16 <= xor_start ? _mm_loadu_si128((const __m128i *)(message + start))
                                                : merged_block(message, start, 16, xor_end, xor_start);
        state = encrypt(schedule, _mm_xor_si128(state, input));
    }
    size_t start = (blocks - 1) * 16;
    size_t available = length - start;
    __m128i last = merged_block(message, start, available, xor_end, xor_start);
    last = _mm_xor_si128(last, _mm_loadu_si128((const __m128i *)(available == 16 ? k1 : k2)));
    return encrypt(schedule, _mm_xor_si128(state, last));
}

AES_TARGET void pendulum_siv_cmac_256_mac(const pendulum_siv_cmac_256_key *key, const uint8_t *message, size_t length, const uint8_t *xor_end, uint8_t mac[16]) {
    _mm_storeu_si128((__m128i *)mac, cmac(key->mac_schedule, key->k1, key->k2, message, length, xor_end));
}

AES_TARGET static inline __m128i counter_block(uint64_t high, uint64_t low) {
    return _mm_set_epi64x((long long)__builtin_bswap64(low), (long long)__builtin_bswap64(high));
}

// CTR over a 128-bit big-endian counter, four blocks at a time: the AES rounds of independent
// blocks overlap in the pipeline, where one block at a time waits for each round.
AES_TARGET static void ctr(const uint8_t *schedule, const uint8_t counter[16], const uint8_t *input, uint8_t *output, size_t length) {
    uint64_t high = 0, low = 0;
    for (int i = 0; i < 8; i++) high = high << 8 | counter[i];
    for (int i = 8; i < 16; i++) low = low << 8 | counter[i];
    __m128i rk[11];
    for (int i = 0; i < 11; i++) rk[i] = _mm_loadu_si128((const __m128i *)(schedule + 16 * i));
    size_t offset = 0;
    while (length - offset >= 64) {
        __m128i b[4];
        for (int j = 0; j < 4; j++) {
            b[j] = _mm_xor_si128(counter_block(high, low), rk[0]);
            if (++low == 0) high++;
        }
        for (int r = 1; r < 10; r++)
            for (int j = 0; j < 4; j++) b[j] = _mm_aesenc_si128(b[j], rk[r]);
        for (int j = 0; j < 4; j++) {
            b[j] = _mm_aesenclast_si128(b[j], rk[10]);
            __m128i in = _mm_loadu_si128((const __m128i *)(input + offset + 16 * j));
            _mm_storeu_si128((__m128i *)(output + offset + 16 * j), _mm_xor_si128(in, b[j]));
        }
        offset += 64;
    }
    while (offset < length) {
        __m128i b = _mm_xor_si128(counter_block(high, low), rk[0]);
        if (++low == 0) high++;
        for (int r = 1; r < 10; r++) b = _mm_aesenc_si128(b, rk[r]);
        b = _mm_aesenclast_si128(b, rk[10]);
        size_t count = length - offset < 16 ? length - offset : 16;
        if (count == 16) {
            __m128i in = _mm_loadu_si128((const __m128i *)(input + offset));
            _mm_storeu_si128((__m128i *)(output + offset), _mm_xor_si128(in, b));
        } else {
            uint8_t stream[16];
            _mm_storeu_si128((__m128i *)stream, b);
            for (size_t i = 0; i < count; i++) output[offset + i] = input[offset + i] ^ stream[i];
            wipe(stream, 0, sizeof stream);
        }
        offset += count;
    }
}

AES_TARGET void pendulum_siv_cmac_256_ctr(const pendulum_siv_cmac_256_key *key, const uint8_t counter[16], const uint8_t *input, uint8_t *output, size_t length) {
    ctr(key->ctr_schedule, counter, input, output, length);
}

AES_TARGET void pendulum_siv_cmac_256_init(pendulum_siv_cmac_256_key *key, const uint8_t material[32]) {
    expand_key(material, key->mac_schedule);
    expand_key(material + 16, key->ctr_schedule);
    cmac_subkeys(key->mac_schedule, key->k1, key->k2);
    static const uint8_t zero[16] = {0};
    _mm_storeu_si128((__m128i *)key->zero_mac, cmac(key->mac_schedule, key->k1, key->k2, zero, 16, NULL));
}

void pendulum_siv_cmac_256_clear(pendulum_siv_cmac_256_key *key) {
    wipe(key, 0, sizeof *key);
}

// The 16 bytes of `in` (big-endian) times x in GF(2^128), in a register.
AES_TARGET static __m128i doubled_block(__m128i in) {
    uint8_t bytes[16];
    _mm_storeu_si128((__m128i *)bytes, in);
    doubled(bytes, bytes);
    return _mm_loadu_si128((const __m128i *)bytes);
}

// CMAC's last input block of a whole message: complete, xored with K1; or padded with 0x80 0…
// and xored with K2.
AES_TARGET static __m128i final_block(const pendulum_siv_cmac_256_key *key, const uint8_t *message, size_t length) {
    size_t start = length == 0 ? 0 : (length - 1) / 16 * 16;
    size_t available = length - start;
    if (available == 16) {
        return _mm_xor_si128(_mm_loadu_si128((const __m128i *)(message + start)), _mm_loadu_si128((const __m128i *)key->k1));
    }
    uint8_t block[16] = {0};
    if (available > 0) memcpy(block, message + start, available);
    block[available] = 0x80;
    __m128i padded = _mm_loadu_si128((const __m128i *)block);
    return _mm_xor_si128(padded, _mm_loadu_si128((const __m128i *)key->k2));
}

// One CMAC computation in progress: `blocks` whole blocks at `data`, then `final` if
// `has_final`.
typedef struct {
    const uint8_t *data;
    size_t blocks;
    int has_final;
    __m128i final;
    __m128i state;
} cmac_chain;

// Runs up to three CMAC chains side by side. Each chain is a strict sequence of AES calls, each
// waiting for the last; chains do not depend on each other, so their rounds interleave and the
// processor's AES units work on all three at once instead of idling between dependent rounds.
AES_TARGET static void run_chains(const __m128i rk[11], cmac_chain *chains, int count) {
    size_t longest = 0;
    for (int c = 0; c < count; c++) {
        size_t steps = chains[c].blocks + (chains[c].has_final ? 1 : 0);
        if (steps > longest) longest = steps;
    }
    for (size_t step = 0; step < longest; step++) {
        __m128i s[3];
        int active[3] = {0, 0, 0};
        for (int c = 0; c < count; c++) {
            cmac_chain *chain = &chains[c];
            if (step < chain->blocks) {
                s[c] = _mm_xor_si128(chain->state, _mm_loadu_si128((const __m128i *)(chain->data + 16 * step)));
            } else if (step == chain->blocks && chain->has_final) {
                s[c] = _mm_xor_si128(chain->state, chain->final);
            } else {
                continue;
            }
            s[c] = _mm_xor_si128(s[c], rk[0]);
            active[c] = 1;
        }
        for (int r = 1; r < 10; r++)
            for (int c = 0; c < count; c++)
                if (active[c]) s[c] = _mm_aesenc_si128(s[c], rk[r]);
        for (int c = 0; c < count; c++)
            if (active[c]) chains[c].state = _mm_aesenclast_si128(s[c], rk[10]);
    }
}

// S2V (RFC 5297 §2.4) over the two components NTS uses and the plaintext. CMAC(associated
// data), CMAC(nonce) and all of the plaintext's CMAC that precedes its last 16 bytes (the only
// part the chain value D touches, through xorend) are independent, so they run side by side.
AES_TARGET static void s2v(const pendulum_siv_cmac_256_key *key, const uint8_t *associated_data, size_t associated_data_length,
                           const uint8_t *nonce, size_t nonce_length, const uint8_t *text, size_t length, uint8_t v[16]) {
    __m128i rk[11];
    for (int i = 0; i < 11; i++) rk[i] = _mm_loadu_si128((const __m128i *)(key->mac_schedule + 16 * i));
    // The plaintext's blocks before the one or two its last 16 bytes fall in.
    size_t tail_start = length < 16 ? 0 : (length % 16 == 0 ? length - 16 : (length / 16 - 1) * 16);
    cmac_chain chains[3] = {
        {associated_data, associated_data_length == 0 ? 0 : (associated_data_length - 1) / 16, 1,
         final_block(key, associated_data, associated_data_length), _mm_setzero_si128()},
        {nonce, nonce_length == 0 ? 0 : (nonce_length - 1) / 16, 1, final_block(key, nonce, nonce_length), _mm_setzero_si128()},
        {text, tail_start / 16, 0, _mm_setzero_si128(), _mm_setzero_si128()},
    };
    run_chains(rk, chains, 3);
    __m128i d = doubled_block(_mm_loadu_si128((const __m128i *)key->zero_mac));
    d = doubled_block(_mm_xor_si128(d, chains[0].state));
    d = _mm_xor_si128(d, chains[1].state);
    __m128i state = chains[2].state;
    uint8_t tail[32] = {0};
    if (length >= 16) {
        // The last 16 bytes xored with D, in a copy of the tail: one whole block (K1), or a
        // whole block and a padded partial one (K2).
        size_t tail_length = length - tail_start;
        memcpy(tail, text + tail_start, tail_length);
        size_t end = tail_length - 16;
        _mm_storeu_si128((__m128i *)(tail + end), _mm_xor_si128(_mm_loadu_si128((const __m128i *)(tail + end)), d));
        if (tail_length == 16) {
            state = _mm_xor_si128(state, _mm_xor_si128(_mm_loadu_si128((const __m128i *)tail), _mm_loadu_si128((const __m128i *)key->k1)));
        } else {
            tail[tail_length] = 0x80;
            state = encrypt(key->mac_schedule, _mm_xor_si128(state, _mm_loadu_si128((const __m128i *)tail)));
            state = _mm_xor_si128(state, _mm_xor_si128(_mm_loadu_si128((const __m128i *)(tail + 16)), _mm_loadu_si128((const __m128i *)key->k2)));
        }
    } else {
        // Short plaintext: T = dbl(D) xor pad(plaintext), a complete block (K1).
        if (length > 0) memcpy(tail, text, length);
        tail[length] = 0x80;
        state = _mm_xor_si128(doubled_block(d), _mm_loadu_si128((const __m128i *)tail));
        state = _mm_xor_si128(state, _mm_loadu_si128((const __m128i *)key->k1));
    }
    _mm_storeu_si128((__m128i *)v, encrypt(key->mac_schedule, state));
    wipe(tail, 0, sizeof tail);
}

// The CTR start: the synthetic IV with bits 63 and 31 of its low half cleared (§2.6).
static void siv_counter(const uint8_t v[16], uint8_t q[16]) {
    memcpy(q, v, 16);
    q[8] &= 0x7f;
    q[12] &= 0x7f;
}

AES_TARGET void pendulum_siv_cmac_256_seal(const pendulum_siv_cmac_256_key *key, const uint8_t *associated_data, size_t associated_data_length,
                                           const uint8_t *nonce, size_t nonce_length, uint8_t *text, size_t length, uint8_t tag[16]) {
    uint8_t q[16];
    s2v(key, associated_data, associated_data_length, nonce, nonce_length, text, length, tag);
    siv_counter(tag, q);
    ctr(key->ctr_schedule, q, text, text, length);
}

AES_TARGET int pendulum_siv_cmac_256_open(const pendulum_siv_cmac_256_key *key, const uint8_t *associated_data, size_t associated_data_length,
                                          const uint8_t *nonce, size_t nonce_length, const uint8_t tag[16], const uint8_t *ciphertext,
                                          uint8_t *plaintext, size_t length) {
    uint8_t q[16], expected[16];
    siv_counter(tag, q);
    ctr(key->ctr_schedule, q, ciphertext, plaintext, length);
    s2v(key, associated_data, associated_data_length, nonce, nonce_length, plaintext, length, expected);
    uint8_t difference = 0;
    for (int i = 0; i < 16; i++) difference |= (uint8_t)(expected[i] ^ tag[i]);
    wipe(expected, 0, sizeof expected);
    if (difference != 0) {
        wipe(plaintext, 0, length);
        return 0;
    }
    return 1;
}

#else

int pendulum_aes_hardware_available(void) { return 0; }
void pendulum_siv_cmac_256_mac(const pendulum_siv_cmac_256_key *key, const uint8_t *message, size_t length, const uint8_t *xor_end, uint8_t mac[16]) {
    (void)key; (void)message; (void)length; (void)xor_end;
    memset(mac, 0, 16);
}
void pendulum_siv_cmac_256_ctr(const pendulum_siv_cmac_256_key *key, const uint8_t counter[16], const uint8_t *input, uint8_t *output, size_t length) {
    (void)key; (void)counter;
    if (output != input) memmove(output, input, length);
}
void pendulum_siv_cmac_256_init(pendulum_siv_cmac_256_key *key, const uint8_t material[32]) {
    (void)material;
    memset(key, 0, sizeof *key);
}
void pendulum_siv_cmac_256_clear(pendulum_siv_cmac_256_key *key) { memset(key, 0, sizeof *key); }
// Never called without hardware; if it were, it authenticates nothing.
void pendulum_siv_cmac_256_seal(const pendulum_siv_cmac_256_key *key, const uint8_t *associated_data, size_t associated_data_length,
                                const uint8_t *nonce, size_t nonce_length, uint8_t *text, size_t length, uint8_t tag[16]) {
    (void)key; (void)associated_data; (void)associated_data_length; (void)nonce; (void)nonce_length;
    memset(text, 0, length);
    memset(tag, 0, 16);
}
int pendulum_siv_cmac_256_open(const pendulum_siv_cmac_256_key *key, const uint8_t *associated_data, size_t associated_data_length,
                               const uint8_t *nonce, size_t nonce_length, const uint8_t tag[16], const uint8_t *ciphertext,
                               uint8_t *plaintext, size_t length) {
    (void)key; (void)associated_data; (void)associated_data_length; (void)nonce; (void)nonce_length; (void)tag; (void)ciphertext;
    memset(plaintext, 0, length);
    return 0;
}

#endif
