#define _GNU_SOURCE
#include "pendulum_proxy.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

int pendulum_poll_for(struct pollfd *descriptors, int count, long long nanoseconds) {
    if (count < 0 || count > 65536) return -EINVAL;
    if (nanoseconds < 0) nanoseconds = 0;
    struct timespec timeout = {.tv_sec = (time_t)(nanoseconds / 1000000000LL), .tv_nsec = (long)(nanoseconds % 1000000000LL)};
    int ready = ppoll(descriptors, (nfds_t)count, &timeout, NULL);
    return ready < 0 ? -errno : ready;
}

int pendulum_minimal_timer_slack(void) {
    return prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL) == 0 ? 0 : -errno;
}

static volatile sig_atomic_t termination_write_fd = -1;

static void note_termination(int signal_number) {
    (void)signal_number;
    int saved = errno;
    char byte = 1;
    if (termination_write_fd >= 0) (void)!write(termination_write_fd, &byte, 1);
    errno = saved;
}

int pendulum_termination_pipe(void) {
    int fds[2];
    if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) return -errno;
    termination_write_fd = fds[1];
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = note_termination;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    if (sigaction(SIGINT, &action, NULL) != 0 || sigaction(SIGTERM, &action, NULL) != 0) return -errno;
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    int unblocked = pthread_sigmask(SIG_UNBLOCK, &signals, NULL);
    return unblocked == 0 ? fds[0] : -unblocked;
}
