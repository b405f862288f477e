#define _GNU_SOURCE
#include "pendulum_shim.h"
#include "pendulum_error_queue.h"

#include <errno.h>
#include <linux/errqueue.h>
#include <linux/if_packet.h>
#include <linux/net_tstamp.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>
#include <sys/uio.h>

#ifndef SCM_TIMESTAMPING
#define SCM_TIMESTAMPING SO_TIMESTAMPING
#endif

int pendulum_enable_software_timestamping(int fd) {
    int flags = SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE |
                SOF_TIMESTAMPING_OPT_ID | SOF_TIMESTAMPING_OPT_TSONLY;
    if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPING, &flags, sizeof flags) != 0) return -errno;
    return 0;
}

// Picks the best timestamp out of an SCM_TIMESTAMPING message: ts[2] is hardware, ts[0]
// software; an all-zero slot means "not provided".
static int pick_timestamp(const struct scm_timestamping *stamps, struct timespec *out) {
    if (stamps->ts[2].tv_sec != 0 || stamps->ts[2].tv_nsec != 0) {
        *out = stamps->ts[2];
        return PENDULUM_TS_HARDWARE;
    }
    if (stamps->ts[0].tv_sec != 0 || stamps->ts[0].tv_nsec != 0) {
        *out = stamps->ts[0];
        return PENDULUM_TS_KERNEL_SOFTWARE;
    }
    return PENDULUM_TS_NONE;
}

long pendulum_recv_timestamped(int fd, void *buffer, size_t capacity, struct sockaddr_storage *address,
                               socklen_t *address_length, struct timespec *timestamp, int *kind, int flags) {
    union {
        char buf[CMSG_SPACE(sizeof(struct scm_timestamping)) + CMSG_SPACE(sizeof(struct timespec)) + 64];
        struct cmsghdr align;
    } control;
    struct iovec iov = {.iov_base = buffer, .iov_len = capacity};
    struct msghdr message;
    memset(&message, 0, sizeof message);
    message.msg_name = address;
    message.msg_namelen = sizeof(*address);
    message.msg_iov = &iov;
    message.msg_iovlen = 1;
    message.msg_control = control.buf;
    message.msg_controllen = sizeof control.buf;

    ssize_t received = recvmsg(fd, &message, flags | MSG_TRUNC);
    if (received < 0) return -errno;
    *address_length = message.msg_namelen;
    *kind = PENDULUM_TS_NONE;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&message); c != NULL; c = CMSG_NXTHDR(&message, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPING &&
            c->cmsg_len >= CMSG_LEN(sizeof(struct scm_timestamping))) {
            struct scm_timestamping stamps;
            memcpy(&stamps, CMSG_DATA(c), sizeof stamps);
            *kind = pick_timestamp(&stamps, timestamp);
        }
    }
    return (long)received;
}

int pendulum_read_error_queue(int fd, void *payload, size_t payload_size, struct pendulum_error_queue_entry *entry) {
    union {
        char buf[CMSG_SPACE(sizeof(struct scm_timestamping)) + CMSG_SPACE(sizeof(struct sock_extended_err) + 64) + 64];
        struct cmsghdr align;
    } control;
    struct iovec iov = {.iov_base = payload, .iov_len = payload_size};
    struct msghdr message;
    memset(&message, 0, sizeof message);
    message.msg_iov = &iov;
    message.msg_iovlen = 1;
    message.msg_control = control.buf;
    message.msg_controllen = sizeof control.buf;
    ssize_t length = recvmsg(fd, &message, MSG_ERRQUEUE | MSG_DONTWAIT);
    if (length < 0) return -errno;
    memset(entry, 0, sizeof *entry);
    entry->length = (size_t)length;
    entry->truncated = (message.msg_flags & MSG_TRUNC) != 0;
    entry->kind = PENDULUM_TS_NONE;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&message); c != NULL; c = CMSG_NXTHDR(&message, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPING &&
            c->cmsg_len >= CMSG_LEN(sizeof(struct scm_timestamping))) {
            struct scm_timestamping stamps;
            memcpy(&stamps, CMSG_DATA(c), sizeof stamps);
            entry->kind = pick_timestamp(&stamps, &entry->timestamp);
        } else if (((c->cmsg_level == SOL_IP && c->cmsg_type == IP_RECVERR) ||
                    (c->cmsg_level == SOL_IPV6 && c->cmsg_type == IPV6_RECVERR) ||
                    (c->cmsg_level == SOL_PACKET && c->cmsg_type == PACKET_TX_TIMESTAMP)) &&
                   c->cmsg_len >= CMSG_LEN(sizeof(struct sock_extended_err))) {
            struct sock_extended_err error;
            memcpy(&error, CMSG_DATA(c), sizeof error);
            if (error.ee_origin == SO_EE_ORIGIN_TIMESTAMPING) {
                entry->id = error.ee_data;
                entry->has_id = 1;
            }
        }
    }
    return 0;
}

int pendulum_recv_transmit_timestamp(int fd, struct timespec *timestamp, int *kind, uint32_t *id) {
    char payload[64];
    struct pendulum_error_queue_entry entry;
    int result = pendulum_read_error_queue(fd, payload, sizeof payload, &entry);
    if (result < 0) return result;
    *timestamp = entry.timestamp;
    *kind = entry.kind;
    *id = entry.id;
    return entry.kind != PENDULUM_TS_NONE && entry.has_id ? 1 : 0;
}

// ---- Clock control -----------------------------------------------------------------------------
#include <sys/timex.h>

// The kernel's ADJ_FREQUENCY unit: ppm with a 16-bit binary fraction.
#define PENDULUM_PPM_SCALE 65536.0

int pendulum_clock_read_state(int clock_id, double *frequency_ppm, int *status, int *state) {
    struct timex tx;
    memset(&tx, 0, sizeof tx);
    int result = clock_adjtime(clock_id, &tx);
    if (result < 0) return -errno;
    *frequency_ppm = (double)tx.freq / PENDULUM_PPM_SCALE;
    *status = tx.status;
    *state = result;
    return 0;
}

int pendulum_clock_set_frequency(int clock_id, double frequency_ppm) {
    struct timex tx;
    memset(&tx, 0, sizeof tx);
    tx.modes = ADJ_FREQUENCY;
    tx.freq = (long)(frequency_ppm * PENDULUM_PPM_SCALE);
    return clock_adjtime(clock_id, &tx) < 0 ? -errno : 0;
}

// The nominal tick, in µs: one USER_HZ period. The kernel accepts 90 %..110 % of it.
static long pendulum_nominal_tick_us(void) {
    long hz = sysconf(_SC_CLK_TCK);
    return hz > 0 ? 1000000L / hz : 10000L;
}

int pendulum_clock_set_tick_and_frequency(int clock_id, double frequency_ppm, double *actual_ppm) {
    long nominal = pendulum_nominal_tick_us();
    // One µs of tick length changes the rate by 1e6 / nominal ppm (100 ppm at USER_HZ 100).
    double ppm_per_tick_us = 1e6 / (double)nominal;
    double limit = 0.1 * 1e6 - 500.0;
    if (frequency_ppm > limit) frequency_ppm = limit;
    if (frequency_ppm < -limit) frequency_ppm = -limit;
    // Whole tick steps for what ADJ_FREQUENCY cannot carry; the remainder stays within ±500 ppm.
    long tick_steps = 0;
    if (frequency_ppm > 500.0 || frequency_ppm < -500.0) {
        tick_steps = (long)(frequency_ppm / ppm_per_tick_us);
    }
    double remainder = frequency_ppm - (double)tick_steps * ppm_per_tick_us;
    if (remainder > 500.0) remainder = 500.0;
    if (remainder < -500.0) remainder = -500.0;
    struct timex tx;
    memset(&tx, 0, sizeof tx);
    tx.modes = ADJ_FREQUENCY | ADJ_TICK;
    tx.freq = (long)(remainder * PENDULUM_PPM_SCALE);
    tx.tick = nominal + tick_steps;
    if (clock_adjtime(clock_id, &tx) < 0) return -errno;
    if (actual_ppm) *actual_ppm = (double)tick_steps * ppm_per_tick_us + (double)tx.freq / PENDULUM_PPM_SCALE;
    return 0;
}

int pendulum_clock_release_kernel_discipline(int clock_id, int *had_pll, long *pending_offset_us, long *old_tick_us) {
    struct timex tx;
    memset(&tx, 0, sizeof tx);
    if (clock_adjtime(clock_id, &tx) < 0) return -errno;
    *had_pll = (tx.status & (STA_PLL | STA_FLL)) != 0;
    *pending_offset_us = (tx.status & STA_NANO) ? tx.offset / 1000 : tx.offset;
    *old_tick_us = tx.tick;
    int status = tx.status;
    if (status & (STA_PLL | STA_FLL)) {
        // ADJ_OFFSET is only heard while the PLL is on: zero the offset first, then switch off.
        memset(&tx, 0, sizeof tx);
        tx.modes = ADJ_OFFSET;
        tx.offset = 0;
        if (clock_adjtime(clock_id, &tx) < 0) return -errno;
    }
    memset(&tx, 0, sizeof tx);
    tx.modes = ADJ_STATUS;
    tx.status = status & ~(STA_PLL | STA_FLL | STA_PPSFREQ | STA_PPSTIME | STA_FREQHOLD);
    if (clock_adjtime(clock_id, &tx) < 0) return -errno;
    if (clock_id == CLOCK_REALTIME) {
        // An adjtime() slew still running (ADJ_OFFSET_SINGLESHOT with 0 cancels it) and a
        // tick length left by a daemon that slewed through it.
        memset(&tx, 0, sizeof tx);
        tx.modes = ADJ_OFFSET_SINGLESHOT;
        if (clock_adjtime(clock_id, &tx) < 0) return -errno;
        memset(&tx, 0, sizeof tx);
        tx.modes = ADJ_TICK;
        tx.tick = pendulum_nominal_tick_us();
        if (clock_adjtime(clock_id, &tx) < 0) return -errno;
    }
    return 0;
}

int pendulum_clock_step(int clock_id, int64_t seconds, int64_t nanoseconds) {
    // ADJ_SETOFFSET wants a normalised time value: 0 <= tv_usec (here ns) < 1e9.
    while (nanoseconds < 0) {
        nanoseconds += 1000000000;
        seconds -= 1;
    }
    while (nanoseconds >= 1000000000) {
        nanoseconds -= 1000000000;
        seconds += 1;
    }
    struct timex tx;
    memset(&tx, 0, sizeof tx);
    tx.modes = ADJ_SETOFFSET | ADJ_NANO;
    tx.time.tv_sec = (time_t)seconds;
    tx.time.tv_usec = (suseconds_t)nanoseconds;
    return clock_adjtime(clock_id, &tx) < 0 ? -errno : 0;
}

int pendulum_clock_set_status(int clock_id, int leap, int synchronized) {
    struct timex tx;
    memset(&tx, 0, sizeof tx);
    if (clock_adjtime(clock_id, &tx) < 0) return -errno;
    int status = tx.status & ~(STA_INS | STA_DEL | STA_UNSYNC);
    if (leap == 1) status |= STA_INS;
    if (leap == 2) status |= STA_DEL;
    if (!synchronized) status |= STA_UNSYNC;
    memset(&tx, 0, sizeof tx);
    tx.modes = ADJ_STATUS;
    tx.status = status;
    return clock_adjtime(clock_id, &tx) < 0 ? -errno : 0;
}

int pendulum_clock_set_tai_offset(int clock_id, int seconds) {
    struct timex tx;
    memset(&tx, 0, sizeof tx);
    tx.modes = ADJ_TAI;
    tx.constant = seconds;
    return clock_adjtime(clock_id, &tx) < 0 ? -errno : 0;
}

int pendulum_clock_set_error_bounds(int clock_id, long maximum_error_us, long estimated_error_us) {
    struct timex tx;
    memset(&tx, 0, sizeof tx);
    tx.modes = ADJ_MAXERROR | ADJ_ESTERROR;
    tx.maxerror = maximum_error_us;
    tx.esterror = estimated_error_us;
    return clock_adjtime(clock_id, &tx) < 0 ? -errno : 0;
}

int pendulum_clock_id_for_fd(int fd) {
    // The kernel's FD_TO_CLOCKID: dynamic POSIX clocks are addressed through their descriptor.
    return (int)((~(unsigned int)fd) << 3) | 3;
}

// ---- Batched datagram I/O ----------------------------------------------------------------------
#define PENDULUM_BATCH_MAX 64

int pendulum_send_batch(int fd, const void *packets, size_t length, int count) {
    struct mmsghdr messages[PENDULUM_BATCH_MAX];
    struct iovec vectors[PENDULUM_BATCH_MAX];
    int sent_total = 0;
    while (sent_total < count) {
        int batch = count - sent_total;
        if (batch > PENDULUM_BATCH_MAX) batch = PENDULUM_BATCH_MAX;
        memset(messages, 0, sizeof(struct mmsghdr) * (size_t)batch);
        for (int i = 0; i < batch; i++) {
            vectors[i].iov_base = (char *)packets + (size_t)(sent_total + i) * length;
            vectors[i].iov_len = length;
            messages[i].msg_hdr.msg_iov = &vectors[i];
            messages[i].msg_hdr.msg_iovlen = 1;
        }
        int sent = sendmmsg(fd, messages, (unsigned int)batch, 0);
        if (sent < 0) return sent_total > 0 ? sent_total : -errno;
        sent_total += sent;
        if (sent < batch) break;  // socket buffer full: report what went out
    }
    return sent_total;
}

int pendulum_wait_readable(const int *descriptors, int count, long nanoseconds) {
    if (count < 0 || count > 1024) return -EINVAL;
    struct pollfd waiting[1024];
    for (int i = 0; i < count; i++) {
        waiting[i].fd = descriptors[i];
        waiting[i].events = POLLIN;
        waiting[i].revents = 0;
    }
    struct timespec timeout = {.tv_sec = nanoseconds / 1000000000L, .tv_nsec = nanoseconds % 1000000000L};
    int ready = ppoll(waiting, (nfds_t)count, &timeout, NULL);
    return ready < 0 ? -errno : ready;
}

int pendulum_receive_batch(int fd, void *slots, size_t slot_size, int count, int *lengths, struct timespec *timestamps) {
    if (count > PENDULUM_BATCH_MAX) count = PENDULUM_BATCH_MAX;
    struct mmsghdr messages[PENDULUM_BATCH_MAX];
    struct iovec vectors[PENDULUM_BATCH_MAX];
    union {
        char buf[CMSG_SPACE(sizeof(struct scm_timestamping))];
        struct cmsghdr align;
    } controls[PENDULUM_BATCH_MAX];
    memset(messages, 0, sizeof(struct mmsghdr) * (size_t)count);
    for (int i = 0; i < count; i++) {
        vectors[i].iov_base = (char *)slots + (size_t)i * slot_size;
        vectors[i].iov_len = slot_size;
        messages[i].msg_hdr.msg_iov = &vectors[i];
        messages[i].msg_hdr.msg_iovlen = 1;
        messages[i].msg_hdr.msg_control = controls[i].buf;
        messages[i].msg_hdr.msg_controllen = sizeof controls[i].buf;
    }
    int received = recvmmsg(fd, messages, (unsigned int)count, MSG_DONTWAIT, NULL);
    if (received < 0) return -errno;
    for (int i = 0; i < received; i++) {
        lengths[i] = (int)messages[i].msg_len;
        timestamps[i].tv_sec = 0;
        timestamps[i].tv_nsec = 0;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&messages[i].msg_hdr); c != NULL; c = CMSG_NXTHDR(&messages[i].msg_hdr, c)) {
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPING &&
                c->cmsg_len >= CMSG_LEN(sizeof(struct scm_timestamping))) {
                struct scm_timestamping stamps;
                memcpy(&stamps, CMSG_DATA(c), sizeof stamps);
                pick_timestamp(&stamps, &timestamps[i]);
            }
        }
    }
    return received;
}

#include <malloc.h>

int pendulum_release_free_heap(void) {
    return malloc_trim(0);
}

#include <sys/prctl.h>

void pendulum_name_this_thread(const char *name) {
    prctl(PR_SET_NAME, (unsigned long)name, 0, 0, 0);
}
