#define _GNU_SOURCE
#include "pendulum_ptp_net.h"
#include "pendulum_shim.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/errqueue.h>
#include <linux/ethtool.h>
#include <linux/if_packet.h>
#include <linux/net_tstamp.h>
#include <linux/sockios.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <pthread.h>
#include <unistd.h>

#define PTP_ETHERTYPE 0x88F7

static int fail(int fd) {
    int error = errno;
    if (fd >= 0) close(fd);
    return -error;
}

static int join_group(int fd, int family, unsigned index, const char *group) {
    if (family == AF_INET) {
        struct ip_mreqn request;
        memset(&request, 0, sizeof request);
        if (inet_pton(AF_INET, group, &request.imr_multiaddr) != 1) { errno = EINVAL; return -1; }
        request.imr_ifindex = (int)index;
        return setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &request, sizeof request);
    }
    struct ipv6_mreq request;
    memset(&request, 0, sizeof request);
    if (inet_pton(AF_INET6, group, &request.ipv6mr_multiaddr) != 1) { errno = EINVAL; return -1; }
    request.ipv6mr_interface = index;
    return setsockopt(fd, IPPROTO_IPV6, IPV6_ADD_MEMBERSHIP, &request, sizeof request);
}

int pendulum_ptp_udp_open(int family, const char *interface_name, uint16_t port, const char *primary_group,
                          const char *peer_delay_group) {
    unsigned index = if_nametoindex(interface_name);
    if (index == 0) return -errno;
    int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    int one = 1, zero = 0;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) return fail(fd);
    if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, interface_name, (socklen_t)strlen(interface_name)) != 0)
        return fail(fd);
    if (family == AF_INET) {
        struct sockaddr_in address;
        memset(&address, 0, sizeof address);
        address.sin_family = AF_INET;
        address.sin_port = htons(port);
        address.sin_addr.s_addr = htonl(INADDR_ANY);
        if (bind(fd, (struct sockaddr *)&address, sizeof address) != 0) return fail(fd);
        struct ip_mreqn outgoing;
        memset(&outgoing, 0, sizeof outgoing);
        outgoing.imr_ifindex = (int)index;
        if (setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &outgoing, sizeof outgoing) != 0) return fail(fd);
        if (setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &one, sizeof one) != 0) return fail(fd);
        if (setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &zero, sizeof zero) != 0) return fail(fd);
    } else {
        if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) != 0) return fail(fd);
        struct sockaddr_in6 address;
        memset(&address, 0, sizeof address);
        address.sin6_family = AF_INET6;
        address.sin6_port = htons(port);
        address.sin6_addr = in6addr_any;
        if (bind(fd, (struct sockaddr *)&address, sizeof address) != 0) return fail(fd);
        int interface = (int)index;
        if (setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &interface, sizeof interface) != 0) return fail(fd);
        if (setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &one, sizeof one) != 0) return fail(fd);
        if (setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &zero, sizeof zero) != 0) return fail(fd);
    }
    if (join_group(fd, family, index, primary_group) != 0) return fail(fd);
    if (join_group(fd, family, index, peer_delay_group) != 0) return fail(fd);
    int result = pendulum_enable_software_timestamping(fd);
    if (result != 0) {
        close(fd);
        return result;
    }
    return fd;
}

long pendulum_ptp_udp_send(int fd, int family, const char *interface_name, const char *group, uint16_t port,
                           const void *bytes, size_t length) {
    ssize_t sent;
    if (family == AF_INET) {
        struct sockaddr_in address;
        memset(&address, 0, sizeof address);
        address.sin_family = AF_INET;
        address.sin_port = htons(port);
        if (inet_pton(AF_INET, group, &address.sin_addr) != 1) return -EINVAL;
        sent = sendto(fd, bytes, length, 0, (struct sockaddr *)&address, sizeof address);
    } else {
        struct sockaddr_in6 address;
        memset(&address, 0, sizeof address);
        address.sin6_family = AF_INET6;
        address.sin6_port = htons(port);
        if (inet_pton(AF_INET6, group, &address.sin6_addr) != 1) return -EINVAL;
        address.sin6_scope_id = if_nametoindex(interface_name);
        sent = sendto(fd, bytes, length, 0, (struct sockaddr *)&address, sizeof address);
    }
    return sent < 0 ? -errno : (long)sent;
}

int pendulum_interface_mac(const char *interface_name, uint8_t mac[6]) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    struct ifreq request;
    memset(&request, 0, sizeof request);
    strncpy(request.ifr_name, interface_name, IFNAMSIZ - 1);
    if (ioctl(fd, SIOCGIFHWADDR, &request) != 0) return fail(fd);
    close(fd);
    memcpy(mac, request.ifr_hwaddr.sa_data, 6);
    return 0;
}

static int add_membership(int fd, unsigned index, const uint8_t mac[6]) {
    struct packet_mreq request;
    memset(&request, 0, sizeof request);
    request.mr_ifindex = (int)index;
    request.mr_type = PACKET_MR_MULTICAST;
    request.mr_alen = 6;
    memcpy(request.mr_address, mac, 6);
    return setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &request, sizeof request);
}

int pendulum_ptp_ethernet_open(const char *interface_name, const uint8_t primary_mac[6],
                               const uint8_t peer_delay_mac[6]) {
    unsigned index = if_nametoindex(interface_name);
    if (index == 0) return -errno;
    int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(PTP_ETHERTYPE));
    if (fd < 0) return -errno;
    struct sockaddr_ll address;
    memset(&address, 0, sizeof address);
    address.sll_family = AF_PACKET;
    address.sll_protocol = htons(PTP_ETHERTYPE);
    address.sll_ifindex = (int)index;
    if (bind(fd, (struct sockaddr *)&address, sizeof address) != 0) return fail(fd);
    if (add_membership(fd, index, primary_mac) != 0) return fail(fd);
    if (add_membership(fd, index, peer_delay_mac) != 0) return fail(fd);
    int result = pendulum_enable_software_timestamping(fd);
    if (result != 0) {
        close(fd);
        return result;
    }
    return fd;
}

long pendulum_ptp_ethernet_send(int fd, const char *interface_name, const uint8_t destination[6],
                                const void *bytes, size_t length) {
    uint8_t source[6];
    int result = pendulum_interface_mac(interface_name, source);
    if (result != 0) return result;
    if (length > 1500) return -EMSGSIZE;
    uint8_t frame[14 + 1500];
    memcpy(frame, destination, 6);
    memcpy(frame + 6, source, 6);
    frame[12] = PTP_ETHERTYPE >> 8;
    frame[13] = PTP_ETHERTYPE & 0xFF;
    memcpy(frame + 14, bytes, length);
    ssize_t sent = send(fd, frame, 14 + length, 0);
    if (sent < 0) return -errno;
    return sent >= 14 ? (long)(sent - 14) : 0;
}

int pendulum_ptp_recv_transmit_timestamp(int fd, struct timespec *timestamp, int *kind, uint32_t *id) {
    // The same read as the NTP client's; AF_PACKET's PACKET_TX_TIMESTAMP is understood there too.
    return pendulum_recv_transmit_timestamp(fd, timestamp, kind, id);
}

int pendulum_interface_hardware_timestamping(const char *interface_name, int *phc_index) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    struct ethtool_ts_info info;
    memset(&info, 0, sizeof info);
    info.cmd = ETHTOOL_GET_TS_INFO;
    struct ifreq request;
    memset(&request, 0, sizeof request);
    strncpy(request.ifr_name, interface_name, IFNAMSIZ - 1);
    request.ifr_data = (void *)&info;
    if (ioctl(fd, SIOCETHTOOL, &request) != 0) return fail(fd);
    close(fd);
    *phc_index = info.phc_index;
    unsigned needed = SOF_TIMESTAMPING_TX_HARDWARE | SOF_TIMESTAMPING_RX_HARDWARE | SOF_TIMESTAMPING_RAW_HARDWARE;
    return (info.so_timestamping & needed) == needed ? 1 : 0;
}

static int set_hardware_config(int fd, const char *interface_name, int filter, struct hwtstamp_config *config) {
    memset(config, 0, sizeof *config);
    config->tx_type = HWTSTAMP_TX_ON;
    config->rx_filter = filter;
    struct ifreq request;
    memset(&request, 0, sizeof request);
    strncpy(request.ifr_name, interface_name, IFNAMSIZ - 1);
    request.ifr_data = (void *)config;
    return ioctl(fd, SIOCSHWTSTAMP, &request) == 0 ? 0 : -errno;
}

int pendulum_ptp_enable_hardware_timestamping(int fd, const char *interface_name, int *rx_filter) {
    struct hwtstamp_config config;
    // PTPv2 event messages over any transport first; NICs that only timestamp everything
    // refuse it with ERANGE.
    int result = set_hardware_config(fd, interface_name, HWTSTAMP_FILTER_PTP_V2_EVENT, &config);
    if (result == -ERANGE) result = set_hardware_config(fd, interface_name, HWTSTAMP_FILTER_ALL, &config);
    if (result != 0) return result;
    if (config.tx_type != HWTSTAMP_TX_ON || config.rx_filter == HWTSTAMP_FILTER_NONE) return -EOPNOTSUPP;
    *rx_filter = config.rx_filter;
    int flags = SOF_TIMESTAMPING_TX_HARDWARE | SOF_TIMESTAMPING_RX_HARDWARE | SOF_TIMESTAMPING_RAW_HARDWARE |
                SOF_TIMESTAMPING_OPT_ID | SOF_TIMESTAMPING_OPT_TSONLY;
    if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPING, &flags, sizeof flags) != 0) return -errno;
    return 0;
}

#include <signal.h>
#include <sys/signalfd.h>

int pendulum_termination_signal_fd(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0) return -EINVAL;
    int fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    return fd < 0 ? -errno : fd;
}
