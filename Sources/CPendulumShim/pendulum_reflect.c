#define _GNU_SOURCE
#include "pendulum_reflect.h"

#include <errno.h>
#include <linux/net_tstamp.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>

#define REFLECT_BATCH 32
#define REFLECT_REQUEST_BYTES 1024
#define REFLECT_CONTROL_BYTES 256

static double monotonic_seconds(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec * 1e-9;
}

int64_t pendulum_reflect_for(int fd, double seconds, int receive_timestamps) {
    if (receive_timestamps) {
        int flags = SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE;
        if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPING, &flags, sizeof flags) != 0) return -errno;
    }
    // Allocated once, before the loop: the reflector must not spend anything a server would not.
    typedef union {
        char bytes[REFLECT_CONTROL_BYTES];
        struct cmsghdr align;
    } control_buffer;
    uint8_t (*requests)[REFLECT_REQUEST_BYTES] = calloc(REFLECT_BATCH, REFLECT_REQUEST_BYTES);
    control_buffer *controls = calloc(REFLECT_BATCH, sizeof(control_buffer));
    if (requests == NULL || controls == NULL) {
        free(requests);
        free(controls);
        return -ENOMEM;
    }
    struct sockaddr_storage peers[REFLECT_BATCH];
    struct iovec receive_vectors[REFLECT_BATCH], send_vectors[REFLECT_BATCH];
    struct mmsghdr receive_messages[REFLECT_BATCH], send_messages[REFLECT_BATCH];

    int64_t answered = 0;
    double deadline = monotonic_seconds() + seconds;
    while (monotonic_seconds() < deadline) {
        for (int i = 0; i < REFLECT_BATCH; i++) {
            memset(&receive_messages[i], 0, sizeof receive_messages[i]);
            receive_vectors[i].iov_base = requests[i];
            receive_vectors[i].iov_len = REFLECT_REQUEST_BYTES;
            receive_messages[i].msg_hdr.msg_iov = &receive_vectors[i];
            receive_messages[i].msg_hdr.msg_iovlen = 1;
            receive_messages[i].msg_hdr.msg_name = &peers[i];
            receive_messages[i].msg_hdr.msg_namelen = sizeof peers[i];
            if (receive_timestamps) {
                receive_messages[i].msg_hdr.msg_control = controls[i].bytes;
                receive_messages[i].msg_hdr.msg_controllen = sizeof controls[i].bytes;
            }
        }
        int received = recvmmsg(fd, receive_messages, REFLECT_BATCH, MSG_WAITFORONE, NULL);
        if (received < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) continue;
            answered = -errno;
            break;
        }
        int queued = 0;
        for (int i = 0; i < received; i++) {
            uint8_t *packet = requests[i];
            if (receive_messages[i].msg_len < 48 || (packet[0] & 0x7) != 3) continue;
            packet[0] = (uint8_t)((packet[0] & 0xF8) | 4);
            packet[1] = 2;
            memcpy(packet + 24, packet + 40, 8);
            memset(&send_messages[queued], 0, sizeof send_messages[queued]);
            send_vectors[queued].iov_base = packet;
            send_vectors[queued].iov_len = 48;
            send_messages[queued].msg_hdr.msg_iov = &send_vectors[queued];
            send_messages[queued].msg_hdr.msg_iovlen = 1;
            send_messages[queued].msg_hdr.msg_name = &peers[i];
            send_messages[queued].msg_hdr.msg_namelen = receive_messages[i].msg_hdr.msg_namelen;
            queued += 1;
        }
        int next = 0;
        while (next < queued) {
            int sent = sendmmsg(fd, send_messages + next, (unsigned int)(queued - next), 0);
            if (sent < 0) {
                if (errno == EINTR) continue;
                next += 1;
                continue;
            }
            next += sent;
            answered += sent;
        }
    }
    free(requests);
    free(controls);
    return answered;
}
