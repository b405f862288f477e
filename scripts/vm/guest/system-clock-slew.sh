#!/usr/bin/env bash
# The guest's clock set 50 ms ahead of the host's, pendulum-ntpd allowed to step only beyond
# 0.2 s: it must slew the clock back (through the tick length, as fast as chrony's default
# maxslewrate) and never step it; CLOCK_REALTIME must never go backwards (30 s).
set -euo pipefail
source "$PENDULUM_REPO/scripts/vm/guest/common.sh"

# Where the guest clock is now (it boots from the emulated RTC, up to a second off).
kernel_clock sample "$SERVER" 1 $SCRATCH/initial.jsonl
initial=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["offset"])' "$SCRATCH/initial.jsonl")
kernel_clock set-offset "$(python3 -c "print($initial + 0.050)")"

write_config <<CONF
[[source]]
mode = "server"
address = "$SERVER"
minpoll = 0
maxpoll = 3

[clock]
kind = "system"

[synchronization]
startup-step-threshold-seconds = 0.2
step-threshold-seconds = 0.2
CONF

# Where it starts, measured before the daemon runs: the start-up burst slews within seconds,
# so the first sample after the start already shows part of the slew.
kernel_clock sample "$SERVER" 1 "$RESULTS/before.jsonl"
start_daemon ntpd.log
kernel_clock sample "$SERVER" 30 "$RESULTS/samples.jsonl"
stop_daemon
