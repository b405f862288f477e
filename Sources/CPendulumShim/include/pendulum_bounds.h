// Bounded time: the layout of the shared-memory segment in which pendulum-ntpd publishes how far
// its clock may be from true time, and the two functions that write and read it.
//
// A program that needs a bound on the clock's error (ordering commits, checking a certificate,
// stamping a trace) maps the file read-only and, for any instant, computes
//   clock  = CLOCK_REALTIME + clock_offset_ns + clock_rate × (CLOCK_REALTIME − as_of_realtime_ns)
//   bound  = bound_ns + max_drift_ppb × (CLOCK_MONOTONIC − as_of_monotonic_ns) / 1e9
//   earliest = clock − bound, latest = clock + bound
// The offset and rate are zero when the daemon steers the system clock; an overlay clock (a
// daemon that never touches the system clock) publishes how it relates to CLOCK_REALTIME.
//
// The writer is a seqlock: `sequence` is odd while an update is being written. A reader copies
// the fields between two reads of an even, equal sequence (pendulum_bounds_read does this).
// Every field is naturally aligned and in the host's byte order; the segment is 128 bytes, the
// rest reserved as zero. This is version 1: a reader must check magic, version and size.
// The layout is also written down in docs/bounded-time.md.
#ifndef PENDULUM_BOUNDS_H
#define PENDULUM_BOUNDS_H

#include <stdint.h>

#define PENDULUM_BOUNDS_MAGIC 0x31444E4255444E50ULL /* "PNDUBND1" read as little-endian bytes */
#define PENDULUM_BOUNDS_VERSION 1
#define PENDULUM_BOUNDS_SIZE 128

enum pendulum_bounds_status {
    /// Nothing published yet, or the daemon stopped.
    PENDULUM_BOUNDS_UNKNOWN = 0,
    /// Synchronised to its sources: the bound is the daemon's error bound.
    PENDULUM_BOUNDS_SYNCHRONIZED = 1,
    /// Sources lost: the clock runs on its last frequency and the bound keeps growing.
    PENDULUM_BOUNDS_FREE_RUNNING = 2,
};

struct pendulum_bounds {
    uint64_t magic;
    uint32_t version;
    uint32_t size;
    uint64_t sequence;
    /// CLOCK_REALTIME and CLOCK_MONOTONIC (ns) at the instant the rest was computed for.
    int64_t as_of_realtime_ns;
    int64_t as_of_monotonic_ns;
    /// The disciplined clock minus CLOCK_REALTIME at that instant (ns), and how fast that
    /// difference grows (s/s) — both 0 when the disciplined clock is CLOCK_REALTIME.
    int64_t clock_offset_ns;
    double clock_rate;
    /// Largest error of the disciplined clock at that instant (ns).
    int64_t bound_ns;
    /// How fast the bound grows afterwards (ns per s of CLOCK_MONOTONIC).
    uint32_t max_drift_ppb;
    uint32_t status;
    /// After this CLOCK_MONOTONIC instant (ns) the values are stale: the daemon updates well
    /// before it, so a reader past it is reading a daemon that stopped or hangs.
    int64_t void_after_monotonic_ns;
    uint8_t reserved[PENDULUM_BOUNDS_SIZE - 80];
};

_Static_assert(sizeof(struct pendulum_bounds) == PENDULUM_BOUNDS_SIZE, "bounds segment layout");

/// Publishes `values` (whose magic, version, size and sequence are ignored) into the mapped
/// segment under the seqlock.
void pendulum_bounds_write(struct pendulum_bounds *segment, const struct pendulum_bounds *values);

/// Copies a consistent snapshot of the mapped segment into `out`. Returns 0, -1 when the
/// segment is not a version-1 bounds segment, -2 when no consistent copy was had in a thousand
/// tries (a writer that died halfway).
int pendulum_bounds_read(const struct pendulum_bounds *segment, struct pendulum_bounds *out);

#endif
