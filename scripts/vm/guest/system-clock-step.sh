#!/usr/bin/env bash
# pendulum-ntpd steering the guest's CLOCK_REALTIME (kind = "system") from a chronyd -x on the
# host. The clock starts about 2.5 s ahead with a kernel PLL left running by "an earlier
# daemon". Phases, each sampled by an independent NTP client (kernel_clock.py):
#   run1   the daemon steps, then holds the clock (45 s);
#   lost   the guest's network goes down: STA_UNSYNC must come back (40 s);
#   run2   network back, daemon restarted with the drift file it wrote at stop (30 s).
set -euo pipefail
source "$PENDULUM_REPO/scripts/vm/guest/common.sh"

kernel_clock set-offset 2
kernel_clock leave-pll-on
kernel_clock state >"$RESULTS/state-at-start.json"

write_config <<CONF
[[source]]
mode = "server"
address = "$SERVER"
minpoll = 0
maxpoll = 3

[clock]
kind = "system"
drift-file = "$SCRATCH/drift"
CONF

start_daemon ntpd-run1.log
kernel_clock sample "$SERVER" 45 "$RESULTS/samples-run1.jsonl"

ip link set eth0 down
kernel_clock sample "$SERVER" 40 "$RESULTS/samples-lost.jsonl"
ip link set eth0 up
ip route add default via 10.0.2.2 2>/dev/null || true
stop_daemon
cp $SCRATCH/drift "$RESULTS/drift-after-run1" 2>/dev/null || true

start_daemon ntpd-run2.log
kernel_clock sample "$SERVER" 30 "$RESULTS/samples-run2.jsonl"
stop_daemon
cp $SCRATCH/drift "$RESULTS/drift-after-run2" 2>/dev/null || true
