// Sockets for PTP transports (IEEE 1588 Annex C, D, E): multicast UDP bound to one interface,
// and AF_PACKET for Ethernet. The multicast and packet-socket structures are awkward from Swift;
// policy (addresses, ports, what to send) stays in Swift.
#ifndef PENDULUM_PTP_NET_H
#define PENDULUM_PTP_NET_H

#include <stdint.h>
#include <time.h>

/// A UDP socket for one PTP port: bound to `port` on the wildcard address of `family`
/// (AF_INET/AF_INET6) and to the interface (SO_BINDTODEVICE), member of both multicast groups
/// on that interface, sending multicast out of it with TTL/hop limit 1 and no loopback, with
/// software SO_TIMESTAMPING. `groups` are textual addresses. Returns the descriptor or -errno.
int pendulum_ptp_udp_open(int family, const char *interface_name, uint16_t port, const char *primary_group,
                          const char *peer_delay_group);

/// Sends a datagram to `group`:`port` (textual address of the socket's family; IPv6 link-local
/// groups are scoped to the bound interface). Returns bytes sent or -errno.
long pendulum_ptp_udp_send(int fd, int family, const char *interface_name, const char *group, uint16_t port,
                           const void *bytes, size_t length);

/// An AF_PACKET socket for EtherType 0x88F7 on the interface, member of both multicast MAC
/// groups, with software SO_TIMESTAMPING. Returns the descriptor or -errno.
int pendulum_ptp_ethernet_open(const char *interface_name, const uint8_t primary_mac[6],
                               const uint8_t peer_delay_mac[6]);

/// Sends one PTP message in an Ethernet frame to `destination` (the source MAC is the
/// interface's). Returns payload bytes sent or -errno.
long pendulum_ptp_ethernet_send(int fd, const char *interface_name, const uint8_t destination[6],
                                const void *bytes, size_t length);

/// The interface's hardware address. Returns 0 or -errno.
int pendulum_interface_mac(const char *interface_name, uint8_t mac[6]);

/// Reads one transmit timestamp from the error queue of any socket kind (UDP or packet):
/// 1 with `timestamp`, `kind` and the OPT_ID `id` filled, 0 for something else, -errno on
/// failure (-EAGAIN: empty).
int pendulum_ptp_recv_transmit_timestamp(int fd, struct timespec *timestamp, int *kind, uint32_t *id);

/// Whether the interface can take hardware timestamps (ETHTOOL_GET_TS_INFO reports
/// SOF_TIMESTAMPING_TX_HARDWARE and RX_HARDWARE): 1 yes, 0 no, -errno on failure. `phc_index`
/// receives the PTP hardware clock number (-1 when none).
int pendulum_interface_hardware_timestamping(const char *interface_name, int *phc_index);


/// Switches hardware timestamping on for the interface (SIOCSHWTSTAMP: transmit timestamps
/// on; receive filter PTPv2 event messages, or every packet when the NIC cannot filter) and
/// asks `fd` for raw hardware timestamps (PHC time) instead of software ones, with OPT_ID on
/// transmit. Returns 0, or -errno (-EOPNOTSUPP/-EINVAL from drivers without the capability).
/// `rx_filter` receives the filter the driver applied.
int pendulum_ptp_enable_hardware_timestamping(int fd, const char *interface_name, int *rx_filter);

/// Blocks SIGTERM and SIGINT for the calling thread (and threads it starts later) and returns a
/// signalfd that becomes readable when one arrives, so a poll loop can stop cleanly. -errno on
/// failure.
int pendulum_termination_signal_fd(void);
#endif
