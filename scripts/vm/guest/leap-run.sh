# Sourced by the leap scenarios after common.sh. The host part (scripts/vm/host/SCENARIO.sh)
# runs three servers whose clocks read a minute before a leap second; this guest moves its
# clock to their day, starts pendulum-ntpd (kind = "system") with the three as sources (1–8 s polling) and
# watches the kernel carry out the leap second:
#   samples-before.jsonl  20 s: synchronised, the leap second announced to the kernel;
#   leap-trace.json       3 s before to 4 s after midnight: seconds seen, jumps, kernel states;
#   samples-after.jsonl   20 s: still synchronised, no step, the announcement withdrawn.
# Meanwhile the daemon also serves with a one-minute linear leap smear on 127.0.0.1:11200:
#   smear-trace.jsonl     from 33 s before midnight to 33 s after: what it serves, against
#                         CLOCK_TAI (no leap), every 0.1 s.
# LEAP_LIST is the daemon's [clock] leap-seconds-file.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
: "${LEAP_LIST:?}"

kernel_clock set-offset "$(cat "$RESULTS/reference-offset")"
kernel_clock state >"$RESULTS/state-at-start.json"

write_config <<CONF
# Served smeared, so that a client of the kernel clock sees no leap second.
[[server]]
listen = "127.0.0.1:11200"
leap-smear = "linear"
leap-smear-window-seconds = 60
rate-limit-interval-ms = 0

[[source]]
mode = "server"
address = "10.0.2.2:11123"
minpoll = 0
maxpoll = 3

[[source]]
mode = "server"
address = "10.0.2.2:11124"
minpoll = 0
maxpoll = 3

[[source]]
mode = "server"
address = "10.0.2.2:11125"
minpoll = 0
maxpoll = 3

[clock]
kind = "system"
leap-seconds-file = "$LEAP_LIST"

# Two of three: a server that carries out the wrong leap second is two seconds off afterwards,
# and must be outvoted rather than end synchronisation.
[synchronization]
minimum-agreeing-sources = 2
CONF

start_daemon ntpd.log
kernel_clock smear-trace 127.0.0.1:11200 30 120 "$RESULTS/smear-trace.jsonl" &
smear_trace=$!
kernel_clock sample "$SERVER" 20 "$RESULTS/samples-before.jsonl"
kernel_clock leap-trace 120 "$RESULTS/leap-trace.json"
kernel_clock sample "$SERVER" 20 "$RESULTS/samples-after.jsonl"
wait "$smear_trace"
kernel_clock state >"$RESULTS/state-at-end.json"
stop_daemon
