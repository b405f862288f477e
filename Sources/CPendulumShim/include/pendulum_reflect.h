// The kernel's floor for answering UDP requests: a reflector that does no work of its own.
// It exists for the serving benchmark, so that a server's rate can be put beside what the
// kernel allows at all on the same core (a server cannot answer faster than a program that
// only turns each request around).
#ifndef PENDULUM_REFLECT_H
#define PENDULUM_REFLECT_H

#include <stdint.h>

/// Answers NTP client requests on the bound UDP socket `fd` for `seconds`, then returns how many
/// it answered (or -errno if receiving fails for another reason than a timeout or EINTR).
/// Each reply is the first 48 bytes of the request with mode 4, stratum 2 and the request's
/// transmit timestamp as origin: enough for a load generator to count it, nothing a real
/// server would send. Batches of 32 with recvmmsg/sendmmsg. With `receive_timestamps`, asks for
/// a kernel software receive timestamp with each request, as a server needs for T2.
/// `fd` must have a receive timeout (SO_RCVTIMEO) so the deadline is noticed.
int64_t pendulum_reflect_for(int fd, double seconds, int receive_timestamps);

#endif
