#define _GNU_SOURCE
#include "pendulum_serve.h"
#include "pendulum_shim.h"
#include "pendulum_error_queue.h"

#include <errno.h>
#include <linux/errqueue.h>
#include <linux/filter.h>
#include <linux/net_tstamp.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#ifndef SCM_TIMESTAMPING
#define SCM_TIMESTAMPING SO_TIMESTAMPING
#endif

// Room for a timestamp and a destination address, with slack for anything else the kernel adds.
#define PENDULUM_SERVE_CONTROL_BYTES \
    (CMSG_SPACE(sizeof(struct scm_timestamping)) + CMSG_SPACE(sizeof(struct in6_pktinfo)) + 64)
#define PENDULUM_SERVE_REPLY_CONTROL_BYTES (CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(uint32_t)))

typedef union {
    char bytes[PENDULUM_SERVE_CONTROL_BYTES];
    struct cmsghdr align;
} receive_control;

typedef union {
    char bytes[PENDULUM_SERVE_REPLY_CONTROL_BYTES];
    struct cmsghdr align;
} reply_control;

struct pendulum_serve_slot {
    struct sockaddr_storage peer;
    struct timespec received_at;
    int timestamp_kind;
    // The request's destination (our local address) and interface, from IP(V6)_PKTINFO.
    int local_family;
    struct in_addr local4;
    struct in6_addr local6;
    int interface_index;
    size_t length;
    int truncated;
};

struct pendulum_serve_ring {
    int capacity;
    int received;
    int queued;
    size_t request_capacity;
    size_t reply_capacity;
    uint8_t *requests;
    uint8_t *replies;
    struct pendulum_serve_slot *slots;
    struct mmsghdr *receive_messages;
    struct iovec *receive_vectors;
    receive_control *receive_controls;
    struct mmsghdr *send_messages;
    struct iovec *send_vectors;
    reply_control *send_controls;
    int *queued_index;
};

int pendulum_serve_socket_open(int family, int reuse_port, int receive_timeout_ms, int receive_buffer_bytes) {
    int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    int one = 1;
    int failed = 0;
    if (reuse_port && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) failed = errno;
    if (!failed && family == AF_INET6) {
        // "[::]" must not also claim the IPv4 port another [[server]] binds.
        if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) != 0) failed = errno;
        if (!failed && setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one) != 0) failed = errno;
    } else if (!failed) {
        if (setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one) != 0) failed = errno;
    }
    if (!failed) {
        struct timeval timeout = {.tv_sec = receive_timeout_ms / 1000, .tv_usec = (receive_timeout_ms % 1000) * 1000};
        if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout) != 0) failed = errno;
    }
    if (failed) {
        close(fd);
        return -failed;
    }
    // Best effort: the kernel caps it at net.core.rmem_max.
    if (receive_buffer_bytes > 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receive_buffer_bytes, sizeof receive_buffer_bytes);
    return fd;
}

int pendulum_serve_steer_by_source_address(int fd, int family, int workers) {
    if (workers < 1) return -EINVAL;
    // The last 32 bits of the source address (all of it for IPv4), modulo the group size.
    // SKF_NET_OFF addresses the network header; the program sees the skb past the UDP header.
    uint32_t offset = family == AF_INET6 ? 8 + 12 : 12;
    struct sock_filter code[] = {
        {BPF_LD | BPF_W | BPF_ABS, 0, 0, (uint32_t)SKF_NET_OFF + offset},
        {BPF_ALU | BPF_MOD | BPF_K, 0, 0, (uint32_t)workers},
        {BPF_RET | BPF_A, 0, 0, 0},
    };
    struct sock_fprog program = {.len = sizeof code / sizeof code[0], .filter = code};
    return setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &program, sizeof program) == 0 ? 0 : -errno;
}

int pendulum_serve_skip_destination_unless_wildcard(int fd) {
    struct sockaddr_storage bound;
    socklen_t length = sizeof bound;
    if (getsockname(fd, (struct sockaddr *)&bound, &length) != 0) return -errno;
    int zero = 0;
    if (bound.ss_family == AF_INET) {
        if (((struct sockaddr_in *)&bound)->sin_addr.s_addr == htonl(INADDR_ANY)) return 0;
        return setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &zero, sizeof zero) == 0 ? 1 : -errno;
    }
    if (bound.ss_family == AF_INET6) {
        if (IN6_IS_ADDR_UNSPECIFIED(&((struct sockaddr_in6 *)&bound)->sin6_addr)) return 0;
        return setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &zero, sizeof zero) == 0 ? 1 : -errno;
    }
    return 0;
}

int pendulum_serve_enable_receive_timestamps(int fd) {
    int flags = SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE;
    return setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPING, &flags, sizeof flags) == 0 ? 0 : -errno;
}

pendulum_serve_ring *pendulum_serve_ring_create(int capacity, size_t request_capacity, size_t reply_capacity) {
    if (capacity < 1 || capacity > 1024 || request_capacity == 0 || reply_capacity == 0) return NULL;
    if (request_capacity > (1 << 20) || reply_capacity > (1 << 20)) return NULL;
    pendulum_serve_ring *ring = calloc(1, sizeof *ring);
    if (ring == NULL) return NULL;
    size_t n = (size_t)capacity;
    ring->capacity = capacity;
    ring->request_capacity = request_capacity;
    ring->reply_capacity = reply_capacity;
    ring->requests = calloc(n, request_capacity);
    ring->replies = calloc(n, reply_capacity);
    ring->slots = calloc(n, sizeof *ring->slots);
    ring->receive_messages = calloc(n, sizeof *ring->receive_messages);
    ring->receive_vectors = calloc(n, sizeof *ring->receive_vectors);
    ring->receive_controls = calloc(n, sizeof *ring->receive_controls);
    ring->send_messages = calloc(n, sizeof *ring->send_messages);
    ring->send_vectors = calloc(n, sizeof *ring->send_vectors);
    ring->send_controls = calloc(n, sizeof *ring->send_controls);
    ring->queued_index = calloc(n, sizeof *ring->queued_index);
    if (!ring->requests || !ring->replies || !ring->slots || !ring->receive_messages || !ring->receive_vectors ||
        !ring->receive_controls || !ring->send_messages || !ring->send_vectors || !ring->send_controls || !ring->queued_index) {
        pendulum_serve_ring_destroy(ring);
        return NULL;
    }
    return ring;
}

void pendulum_serve_ring_destroy(pendulum_serve_ring *ring) {
    if (ring == NULL) return;
    free(ring->requests);
    free(ring->replies);
    free(ring->slots);
    free(ring->receive_messages);
    free(ring->receive_vectors);
    free(ring->receive_controls);
    free(ring->send_messages);
    free(ring->send_vectors);
    free(ring->send_controls);
    free(ring->queued_index);
    free(ring);
}

static void read_control(struct msghdr *header, struct pendulum_serve_slot *slot) {
    slot->timestamp_kind = PENDULUM_TS_NONE;
    slot->local_family = 0;
    slot->interface_index = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(header); c != NULL; c = CMSG_NXTHDR(header, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPING &&
            c->cmsg_len >= CMSG_LEN(sizeof(struct scm_timestamping))) {
            struct scm_timestamping stamps;
            memcpy(&stamps, CMSG_DATA(c), sizeof stamps);
            if (stamps.ts[2].tv_sec != 0 || stamps.ts[2].tv_nsec != 0) {
                slot->received_at = stamps.ts[2];
                slot->timestamp_kind = PENDULUM_TS_HARDWARE;
            } else if (stamps.ts[0].tv_sec != 0 || stamps.ts[0].tv_nsec != 0) {
                slot->received_at = stamps.ts[0];
                slot->timestamp_kind = PENDULUM_TS_KERNEL_SOFTWARE;
            }
        } else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO && c->cmsg_len >= CMSG_LEN(sizeof(struct in_pktinfo))) {
            struct in_pktinfo info;
            memcpy(&info, CMSG_DATA(c), sizeof info);
            slot->local_family = AF_INET;
            slot->local4 = info.ipi_addr;
            slot->interface_index = info.ipi_ifindex;
        } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO &&
                   c->cmsg_len >= CMSG_LEN(sizeof(struct in6_pktinfo))) {
            struct in6_pktinfo info;
            memcpy(&info, CMSG_DATA(c), sizeof info);
            slot->local_family = AF_INET6;
            slot->local6 = info.ipi6_addr;
            slot->interface_index = (int)info.ipi6_ifindex;
        }
    }
}

int pendulum_serve_receive(int fd, pendulum_serve_ring *ring) {
    ring->received = 0;
    ring->queued = 0;
    for (int i = 0; i < ring->capacity; i++) {
        struct msghdr *header = &ring->receive_messages[i].msg_hdr;
        ring->receive_vectors[i].iov_base = ring->requests + (size_t)i * ring->request_capacity;
        ring->receive_vectors[i].iov_len = ring->request_capacity;
        header->msg_name = &ring->slots[i].peer;
        header->msg_namelen = sizeof ring->slots[i].peer;
        header->msg_iov = &ring->receive_vectors[i];
        header->msg_iovlen = 1;
        header->msg_control = ring->receive_controls[i].bytes;
        header->msg_controllen = sizeof ring->receive_controls[i].bytes;
        header->msg_flags = 0;
        ring->receive_messages[i].msg_len = 0;
    }
    // MSG_WAITFORONE: block (up to SO_RCVTIMEO) for the first, then take only what is queued.
    int received = recvmmsg(fd, ring->receive_messages, (unsigned int)ring->capacity, MSG_WAITFORONE, NULL);
    if (received < 0) return -errno;
    for (int i = 0; i < received; i++) {
        struct pendulum_serve_slot *slot = &ring->slots[i];
        struct msghdr *header = &ring->receive_messages[i].msg_hdr;
        slot->length = ring->receive_messages[i].msg_len;
        slot->truncated = (header->msg_flags & MSG_TRUNC) != 0;
        if (slot->length > ring->request_capacity) slot->length = ring->request_capacity;
        if (header->msg_namelen > sizeof slot->peer) slot->peer.ss_family = AF_UNSPEC;
        read_control(header, slot);
    }
    ring->received = received;
    return received;
}

const uint8_t *pendulum_serve_request(const pendulum_serve_ring *ring, int index, size_t *length, int *truncated) {
    if (index < 0 || index >= ring->received) {
        *length = 0;
        *truncated = 0;
        return ring->requests;
    }
    *length = ring->slots[index].length;
    *truncated = ring->slots[index].truncated;
    return ring->requests + (size_t)index * ring->request_capacity;
}

int pendulum_serve_sender(const pendulum_serve_ring *ring, int index, uint8_t address[16]) {
    memset(address, 0, 16);
    if (index < 0 || index >= ring->received) return 0;
    const struct sockaddr_storage *peer = &ring->slots[index].peer;
    if (peer->ss_family == AF_INET) {
        const struct sockaddr_in *v4 = (const struct sockaddr_in *)peer;
        memcpy(address, &v4->sin_addr, 4);
        return 4;
    }
    if (peer->ss_family == AF_INET6) {
        const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)peer;
        memcpy(address, &v6->sin6_addr, 16);
        return 6;
    }
    return 0;
}

int pendulum_serve_receive_time(const pendulum_serve_ring *ring, int index, struct timespec *time) {
    if (index < 0 || index >= ring->received) return PENDULUM_TS_NONE;
    *time = ring->slots[index].received_at;
    return ring->slots[index].timestamp_kind;
}

uint8_t *pendulum_serve_reply_buffer(pendulum_serve_ring *ring, int index) {
    if (index < 0 || index >= ring->capacity) index = 0;
    return ring->replies + (size_t)index * ring->reply_capacity;
}

size_t pendulum_serve_ring_reply_capacity(const pendulum_serve_ring *ring) { return ring->reply_capacity; }

void pendulum_serve_queue_reply(pendulum_serve_ring *ring, int index, size_t length, int timestamp_transmit) {
    if (index < 0 || index >= ring->received || ring->queued >= ring->capacity || length > ring->reply_capacity) return;
    const struct pendulum_serve_slot *slot = &ring->slots[index];
    if (slot->peer.ss_family != AF_INET && slot->peer.ss_family != AF_INET6) return;
    int q = ring->queued;
    struct msghdr *header = &ring->send_messages[q].msg_hdr;
    memset(header, 0, sizeof *header);
    ring->send_vectors[q].iov_base = ring->replies + (size_t)index * ring->reply_capacity;
    ring->send_vectors[q].iov_len = length;
    header->msg_name = (void *)&slot->peer;
    header->msg_namelen = slot->peer.ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
    header->msg_iov = &ring->send_vectors[q];
    header->msg_iovlen = 1;
    // Answer from the address the request was sent to: on a wildcard bind the kernel would
    // otherwise pick a source by routing, and the client would drop the reply.
    header->msg_control = ring->send_controls[q].bytes;
    header->msg_controllen = sizeof ring->send_controls[q].bytes;
    memset(ring->send_controls[q].bytes, 0, sizeof ring->send_controls[q].bytes);
    size_t used = 0;
    struct cmsghdr *c = CMSG_FIRSTHDR(header);
    if (slot->local_family == AF_INET && slot->peer.ss_family == AF_INET) {
        c->cmsg_level = IPPROTO_IP;
        c->cmsg_type = IP_PKTINFO;
        c->cmsg_len = CMSG_LEN(sizeof(struct in_pktinfo));
        struct in_pktinfo info;
        memset(&info, 0, sizeof info);
        info.ipi_spec_dst = slot->local4;
        memcpy(CMSG_DATA(c), &info, sizeof info);
        used += CMSG_SPACE(sizeof(struct in_pktinfo));
        c = CMSG_NXTHDR(header, c);
    } else if (slot->local_family == AF_INET6 && slot->peer.ss_family == AF_INET6) {
        c->cmsg_level = IPPROTO_IPV6;
        c->cmsg_type = IPV6_PKTINFO;
        c->cmsg_len = CMSG_LEN(sizeof(struct in6_pktinfo));
        struct in6_pktinfo info;
        memset(&info, 0, sizeof info);
        info.ipi6_addr = slot->local6;
        // Link-local destinations are only meaningful with their interface.
        info.ipi6_ifindex = (unsigned int)slot->interface_index;
        memcpy(CMSG_DATA(c), &info, sizeof info);
        used += CMSG_SPACE(sizeof(struct in6_pktinfo));
        c = CMSG_NXTHDR(header, c);
    }
    if (timestamp_transmit && c != NULL) {
        // Per-datagram transmit timestamping: only replies an interleaved client may ask
        // about cost an error-queue message.
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SO_TIMESTAMPING;
        c->cmsg_len = CMSG_LEN(sizeof(uint32_t));
        uint32_t flags = SOF_TIMESTAMPING_TX_SOFTWARE;
        memcpy(CMSG_DATA(c), &flags, sizeof flags);
        used += CMSG_SPACE(sizeof(uint32_t));
    }
    header->msg_controllen = used;
    if (used == 0) header->msg_control = NULL;
    ring->queued_index[q] = index;
    ring->queued = q + 1;
}

int pendulum_serve_send_replies(int fd, pendulum_serve_ring *ring) {
    int sent_total = 0;
    int next = 0;
    while (next < ring->queued) {
        int sent = sendmmsg(fd, ring->send_messages + next, (unsigned int)(ring->queued - next), 0);
        if (sent < 0) {
            if (errno == EINTR) continue;
            next += 1;  // this datagram cannot go (e.g. unreachable): skip it, not the rest
            continue;
        }
        sent_total += sent;
        next += sent;
    }
    ring->queued = 0;
    return sent_total;
}

// Where the NTP message starts in a datagram as the error queue returns it: after link, IP
// and UDP headers of a length that depends on the interface and family. Found from the end:
// the UDP header's length field, 4 bytes before the payload, is 8 + the payload's length.
// NTP messages are multiples of 4 bytes, at least 48, and a reply says mode 4.
static const uint8_t *ntp_message_in(const uint8_t *datagram, size_t length) {
    for (size_t payload = 48; payload + 8 <= length && payload <= 2048; payload += 4) {
        const uint8_t *start = datagram + length - payload;
        size_t udp_length = (size_t)start[-4] << 8 | start[-3];
        if (udp_length == payload + 8 && (start[0] & 0x7) == 4) return start;
    }
    return NULL;
}

int pendulum_serve_read_transmit_timestamps(int fd, uint64_t *fields, struct timespec *times, int capacity) {
    int found = 0;
    while (found < capacity) {
        // The looped-back datagram with its link, IP and UDP headers in front.
        uint8_t payload[2048 + 128];
        struct pendulum_error_queue_entry entry;
        if (pendulum_read_error_queue(fd, payload, sizeof payload, &entry) < 0) break;
        if (entry.truncated || entry.kind == PENDULUM_TS_NONE) continue;
        const uint8_t *message = ntp_message_in(payload, entry.length);
        if (message == NULL) continue;
        uint64_t value = 0;
        for (int i = 32; i < 40; i++) value = value << 8 | message[i];
        fields[found] = value;
        times[found] = entry.timestamp;
        found += 1;
    }
    return found;
}
