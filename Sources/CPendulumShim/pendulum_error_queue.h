// One read from a socket's error queue, where the kernel returns transmit timestamps (private
// to the shim: the NTP client, the PTP sockets and the serving workers all read it this way).
#ifndef PENDULUM_ERROR_QUEUE_H
#define PENDULUM_ERROR_QUEUE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct pendulum_error_queue_entry {
    /// Bytes of the looped-back packet copied into the payload buffer (headers included).
    size_t length;
    /// The packet did not fit the payload buffer.
    int truncated;
    /// The hardware timestamp when there is one, else the software one; PENDULUM_TS_NONE if neither.
    struct timespec timestamp;
    int kind;
    /// The kernel's SOF_TIMESTAMPING_OPT_ID counter, when `has_id`.
    uint32_t id;
    int has_id;
};

/// Reads one entry without blocking; 0, or -errno (-EAGAIN: the queue is empty).
int pendulum_read_error_queue(int fd, void *payload, size_t payload_size, struct pendulum_error_queue_entry *entry);

#endif
