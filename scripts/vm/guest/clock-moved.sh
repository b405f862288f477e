#!/usr/bin/env bash
# Someone else moves the guest's clock under a synchronised pendulum-ntpd (as `date -s` would):
#   synchronised  15 s: the daemon holds the clock;
#   moved-5s      the clock is set 5 s ahead: the daemon sees the move against CLOCK_BOOTTIME
#                 and steps it back (5 s is within the panic threshold) (15 s);
#   moved-1500s   then 1500 s ahead: beyond the 1000 s panic threshold, the daemon refuses,
#                 says why and leaves the clock alone (20 s).
set -euo pipefail
source "$PENDULUM_REPO/scripts/vm/guest/common.sh"

write_config <<CONF
[[source]]
mode = "server"
address = "$SERVER"
minpoll = 0
maxpoll = 3

[clock]
kind = "system"
CONF

start_daemon ntpd.log
kernel_clock sample "$SERVER" 15 "$RESULTS/samples-synchronised.jsonl"
kernel_clock set-offset 5
kernel_clock sample "$SERVER" 15 "$RESULTS/samples-moved-5s.jsonl"
kernel_clock set-offset 1500
kernel_clock sample "$SERVER" 20 "$RESULTS/samples-moved-1500s.jsonl"
stop_daemon
