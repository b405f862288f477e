// What `pendulum bench proxy` needs from Linux that Swift's Glibc module does not export:
// ppoll (nanosecond timeouts), prctl (variadic) and a signal handler.
#ifndef PENDULUM_PROXY_H
#define PENDULUM_PROXY_H

#include <poll.h>

/// ppoll(2) on `count` descriptors for at most `nanoseconds` (0 returns at once). Fills each
/// entry's revents. Returns how many are ready, 0 on timeout, or -errno.
int pendulum_poll_for(struct pollfd *descriptors, int count, long long nanoseconds);

/// Sets this thread's timer slack to 1 ns (PR_SET_TIMERSLACK): the default 50 µs would make
/// every timed delivery up to 50 µs late. Returns 0 or -errno.
int pendulum_minimal_timer_slack(void);

/// Returns the read end of a pipe that becomes readable on SIGINT or SIGTERM (a handler writes
/// to it), and unblocks both in the calling thread. A handler and not a signalfd: the proxy runs
/// on one thread of several, and a signal blocked only there would go to another and kill the
/// process before the summary is printed. Returns the descriptor or -errno.
int pendulum_termination_pipe(void);

#endif
