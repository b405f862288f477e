// The few Linux interfaces Swift's Glibc module cannot express: CMSG_* are macros,
// SOF_TIMESTAMPING_* and struct scm_timestamping live in linux/ headers Glibc does not import.
// Everything here is a thin, allocation-free wrapper; policy stays in Swift.
#ifndef PENDULUM_SHIM_H
#define PENDULUM_SHIM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

// Batched serving I/O lives in its own header; included here so module caches built before it
// existed are invalidated (an umbrella directory does not notice a new header).
#include "pendulum_serve.h"
#include "pendulum_aes.h"
#include "pendulum_reflect.h"
#include "pendulum_proxy.h"
#include "pendulum_bounds.h"

/// glibc's malloc_trim(0): hands freed heap back to the system. malloc.h is not part of Swift's
/// Glibc module. Returns 1 when memory was released.
int pendulum_release_free_heap(void);

/// Names the calling thread (15 bytes kept), as `top -H` shows it. prctl is variadic and
/// pthread_setname_np needs _GNU_SOURCE, so neither reaches Swift's Glibc module.
void pendulum_name_this_thread(const char *name);

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

// ---- Clock control (clock_adjtime). struct timex and the ADJ_*/STA_* constants are not usable
// from Swift's Glibc module, so every use goes through these. All return 0 or -errno.

/// Reads a clock's discipline state without changing it (modes = 0): frequency correction in
/// ppm, kernel status bits and the clock state (TIME_OK, TIME_INS, …, TIME_ERROR).
int pendulum_clock_read_state(int clock_id, double *frequency_ppm, int *status, int *state);

/// Sets the frequency correction (ADJ_FREQUENCY), in ppm; the kernel clamps to ±500 ppm.
int pendulum_clock_set_frequency(int clock_id, double frequency_ppm);

/// Sets a correction beyond ADJ_FREQUENCY's ±500 ppm on CLOCK_REALTIME: the whole microseconds
/// per tick go into the tick length (ADJ_TICK; the kernel allows ±10 %) and the rest into
/// ADJ_FREQUENCY. `actual_ppm` is what was applied after rounding to the kernel's units.
int pendulum_clock_set_tick_and_frequency(int clock_id, double frequency_ppm, double *actual_ppm);

/// Switches off what an earlier time daemon may have left running in the kernel: the kernel's
/// PLL/FLL (STA_PLL, STA_FLL, STA_PPS*) with an ADJ_OFFSET still being slewed, an adjtime()
/// offset, and a tick length other than nominal (CLOCK_REALTIME only). Reports what it found:
/// `had_pll` non-zero when STA_PLL or STA_FLL was on, `pending_offset_us` the PLL offset left.
int pendulum_clock_release_kernel_discipline(int clock_id, int *had_pll, long *pending_offset_us, long *old_tick_us);

/// Steps the clock by a signed interval (ADJ_SETOFFSET | ADJ_NANO).
int pendulum_clock_step(int clock_id, int64_t seconds, int64_t nanoseconds);

/// Sets leap-second and synchronisation status: leap 0 none, 1 insert, 2 delete at the end of the
/// UTC day; `synchronized` clears STA_UNSYNC when non-zero, sets it otherwise.
int pendulum_clock_set_status(int clock_id, int leap, int synchronized);

/// Sets TAI - UTC in seconds (ADJ_TAI), which CLOCK_TAI adds to CLOCK_REALTIME.
int pendulum_clock_set_tai_offset(int clock_id, int seconds);

/// Sets the maximum and estimated error the kernel reports to other programs (microseconds).
int pendulum_clock_set_error_bounds(int clock_id, long maximum_error_us, long estimated_error_us);

/// The dynamic clock id of an open PTP hardware clock device (/dev/ptpN).
int pendulum_clock_id_for_fd(int fd);

// ---- Batched datagram I/O (sendmmsg/recvmmsg), for load generation and serving at rate. --------

/// Sends `count` datagrams of `length` bytes laid out back to back in `packets` on a connected
/// socket, in as few system calls as the kernel allows. Returns how many were sent, or -errno.
int pendulum_send_batch(int fd, const void *packets, size_t length, int count);

/// Waits up to `nanoseconds` for any of `count` descriptors to become readable (ppoll(2),
/// which the Swift Glibc module does not export). Returns how many are ready, 0 on timeout,
/// or -errno.
int pendulum_wait_readable(const int *descriptors, int count, long nanoseconds);

/// Receives up to `count` (at most 64) datagrams without blocking into `slots`, each
/// `slot_size` bytes. Fills each one's length and receive timestamp (kernel software timestamp
/// when the socket has SO_TIMESTAMPING enabled, else zero). Returns how many, or -errno.
int pendulum_receive_batch(int fd, void *slots, size_t slot_size, int count, int *lengths, struct timespec *timestamps);
