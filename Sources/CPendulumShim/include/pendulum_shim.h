// The few Linux interfaces Swift's Glibc module cannot express: CMSG_* are macros,
// SOF_TIMESTAMPING_* and struct scm_timestamping live in linux/ headers Glibc does not import.
// Everything here is a thin, allocation-free wrapper; policy stays in Swift.
#ifndef PENDULUM_SHIM_H
#define PENDULUM_SHIM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

/// Where a packet timestamp came from.
enum pendulum_timestamp_kind {
    PENDULUM_TS_NONE = 0,
    PENDULUM_TS_KERNEL_SOFTWARE = 1,
    PENDULUM_TS_HARDWARE = 2,
};

/// Asks the kernel for software receive and transmit timestamps (SO_TIMESTAMPING), with
/// OPT_ID so transmit timestamps carry a per-socket counter and OPT_TSONLY so the error queue
/// does not echo payloads. Returns 0 or -errno.
int pendulum_enable_software_timestamping(int fd);

/// recvmsg() that also extracts the receive timestamp. `flags` are passed to recvmsg (e.g.
/// MSG_DONTWAIT). On success returns the payload length (which may exceed `capacity` if the
/// datagram was truncated: MSG_TRUNC semantics) and fills the address and timestamp;
/// on failure returns -errno.
long pendulum_recv_timestamped(int fd, void *buffer, size_t capacity, struct sockaddr_storage *address,
                               socklen_t *address_length, struct timespec *timestamp, int *kind, int flags);

/// Reads one transmit timestamp from the socket's error queue (non-blocking). Returns 1 and
/// fills `timestamp`, `kind` and `id` (the OPT_ID counter of the send it belongs to) when one
/// was there, 0 when the queue held something else, -errno on failure (-EAGAIN: empty).
int pendulum_recv_transmit_timestamp(int fd, struct timespec *timestamp, int *kind, uint32_t *id);

#endif
