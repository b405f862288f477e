#include "pendulum_bounds.h"

#include <stddef.h>
#include <string.h>

// Written in C because the seqlock needs per-word atomic accesses and fences in a memory
// segment other processes map; Swift's Atomic types cannot be placed in such memory.

// The published words: from as_of_realtime_ns up to the reserved bytes.
#define FIRST_WORD (offsetof(struct pendulum_bounds, as_of_realtime_ns) / 8)
#define WORD_COUNT ((offsetof(struct pendulum_bounds, reserved) - offsetof(struct pendulum_bounds, as_of_realtime_ns)) / 8)

_Static_assert(offsetof(struct pendulum_bounds, as_of_realtime_ns) % 8 == 0, "aligned words");
_Static_assert(offsetof(struct pendulum_bounds, reserved) % 8 == 0, "aligned words");

void pendulum_bounds_write(struct pendulum_bounds *segment, const struct pendulum_bounds *values) {
    uint64_t sequence = __atomic_load_n(&segment->sequence, __ATOMIC_RELAXED);
    if (sequence & 1) sequence += 1;  // a writer that died halfway: start from an even number
    __atomic_store_n(&segment->sequence, sequence + 1, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    uint64_t words[PENDULUM_BOUNDS_SIZE / 8];
    memcpy(words, values, sizeof words);
    uint64_t *target = (uint64_t *)segment;
    for (size_t index = FIRST_WORD; index < FIRST_WORD + WORD_COUNT; index++) {
        __atomic_store_n(&target[index], words[index], __ATOMIC_RELAXED);
    }
    __atomic_store_n(&segment->magic, (uint64_t)PENDULUM_BOUNDS_MAGIC, __ATOMIC_RELAXED);
    __atomic_store_n(&segment->version, (uint32_t)PENDULUM_BOUNDS_VERSION, __ATOMIC_RELAXED);
    __atomic_store_n(&segment->size, (uint32_t)PENDULUM_BOUNDS_SIZE, __ATOMIC_RELAXED);
    __atomic_store_n(&segment->sequence, sequence + 2, __ATOMIC_RELEASE);
}

int pendulum_bounds_read(const struct pendulum_bounds *segment, struct pendulum_bounds *out) {
    const uint64_t *source = (const uint64_t *)segment;
    for (int attempt = 0; attempt < 1000; attempt++) {
        uint64_t before = __atomic_load_n(&segment->sequence, __ATOMIC_ACQUIRE);
        if (before & 1) continue;
        uint64_t words[PENDULUM_BOUNDS_SIZE / 8] = {0};
        for (size_t index = 0; index < FIRST_WORD + WORD_COUNT; index++) {
            words[index] = __atomic_load_n(&source[index], __ATOMIC_RELAXED);
        }
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        uint64_t after = __atomic_load_n(&segment->sequence, __ATOMIC_RELAXED);
        if (before != after) continue;
        memcpy(out, words, sizeof words);
        if (out->magic != PENDULUM_BOUNDS_MAGIC || out->version != PENDULUM_BOUNDS_VERSION || out->size != PENDULUM_BOUNDS_SIZE) return -1;
        return 0;
    }
    return -2;
}
