// Batched serving I/O for NTP servers: recvmmsg with a kernel receive timestamp and the
// destination address of each request, sendmmsg of the replies from that same address.
// The ring is allocated once per serving thread; receiving and sending touch no allocator.
#ifndef PENDULUM_SERVE_H
#define PENDULUM_SERVE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

/// Requests and replies of one serving thread: `capacity` slots, each with room for one
/// request of `request_capacity` bytes and one reply of `reply_capacity` bytes.
typedef struct pendulum_serve_ring pendulum_serve_ring;

/// Opens a UDP socket for serving: SO_REUSEPORT (when `reuse_port`), destination-address
/// reporting (IP_PKTINFO / IPV6_RECVPKTINFO), IPV6_V6ONLY for IPv6, a receive timeout so the
/// thread can notice a stop request, and a larger receive buffer. `family` is AF_INET or
/// AF_INET6. Returns the descriptor or -errno.
int pendulum_serve_socket_open(int family, int reuse_port, int receive_timeout_ms, int receive_buffer_bytes);

/// Steers each request to a worker by its source address alone (SO_ATTACH_REUSEPORT_CBPF on
/// the group `fd` belongs to): a client that changes source port per request (chrony does)
/// still meets the same worker, its rate-limit slice and its interleaved-mode state.
/// `workers` is the group's size. Returns 0 or -errno (the kernel then hashes by port too).
int pendulum_serve_steer_by_source_address(int fd, int family, int workers);

/// On a socket bound to one address (not the wildcard), stops asking the kernel for each
/// request's destination address: every reply leaves from the bound address anyway, and the
/// control message costs on every receive and every send. Returns 1 if it stopped, 0 if the
/// socket is bound to the wildcard (the destination is needed), -errno on failure.
int pendulum_serve_skip_destination_unless_wildcard(int fd);

/// Asks for kernel software receive timestamps. Returns 0 or -errno.
int pendulum_serve_enable_receive_timestamps(int fd);

/// NULL when out of memory or arguments are out of range (capacity 1...1024).
pendulum_serve_ring *pendulum_serve_ring_create(int capacity, size_t request_capacity, size_t reply_capacity);
void pendulum_serve_ring_destroy(pendulum_serve_ring *ring);

/// Waits (up to the socket's receive timeout) for one request, then takes whatever else is
/// already queued, up to the ring's capacity. Forgets replies queued earlier. Returns how many
/// requests arrived, or -errno (-EAGAIN on timeout).
int pendulum_serve_receive(int fd, pendulum_serve_ring *ring);

/// Request `index` of the last receive: its bytes and length. `*truncated` is set when the
/// datagram was longer than the slot (its length is then the slot's).
const uint8_t *pendulum_serve_request(const pendulum_serve_ring *ring, int index, size_t *length, int *truncated);

/// The sender's address as 16 bytes (IPv4 in the first 4) and its family: 4, 6, or 0 when
/// the kernel gave no usable address.
int pendulum_serve_sender(const pendulum_serve_ring *ring, int index, uint8_t address[16]);

/// The kernel's receive timestamp of request `index`; returns a pendulum_timestamp_kind value
/// (0: none, read the clock yourself).
int pendulum_serve_receive_time(const pendulum_serve_ring *ring, int index, struct timespec *time);

/// Where the reply to request `index` is written; `pendulum_serve_ring_reply_capacity` bytes.
uint8_t *pendulum_serve_reply_buffer(pendulum_serve_ring *ring, int index);
size_t pendulum_serve_ring_reply_capacity(const pendulum_serve_ring *ring);

/// Queues the reply to request `index` (already written to its reply buffer), `length` bytes,
/// for the sender of that request, from the address the request was sent to. With
/// `timestamp_transmit`, the kernel records when it leaves (read it with
/// `pendulum_serve_read_transmit_timestamps`).
void pendulum_serve_queue_reply(pendulum_serve_ring *ring, int index, size_t length, int timestamp_transmit);

/// Sends every queued reply (sendmmsg, retried after a partial send, a failing datagram
/// skipped). Returns how many were sent.
int pendulum_serve_send_replies(int fd, pendulum_serve_ring *ring);

/// Reads the transmit timestamps the kernel has queued for replies sent with
/// `timestamp_transmit`, without blocking: for each, the reply's NTP receive timestamp field
/// (bytes 32–39 of the NTP message, whatever its length) as a big-endian number, and the time
/// it left. Returns how many (at most `capacity`). Entries whose NTP message cannot be found
/// are skipped.
int pendulum_serve_read_transmit_timestamps(int fd, uint64_t *fields, struct timespec *times, int capacity);

#endif
