#!/bin/sh
# Side-by-side serving benchmark on loopback: pendulum-ntpd (one worker) and chronyd -x, plain
# NTP then NTS, with `pendulum bench serve` as the load generator.
#
# Usage: benchmarks/serve-side-by-side.sh [BIN_DIR] [RATES] [STEP_SECONDS]
#   BIN_DIR defaults to .build/release (build with `swift build -c release`).
# The machine's cores are shared: both servers are pinned to CPU 0 and the generator to CPU 1
# (set SERVER_CPU / GENERATOR_CPU to change), so each server gets one core of its own and the
# generator never competes with it. chronyd runs with -x (never touches the clock). chronyd is
# the first target, so the ratios printed are pendulum-ntpd's rate over chronyd's. The plain run
# has a third target, kernel-floor (`pendulum bench reflect`): requests turned around with no
# work at all, the most any UDP server can answer on that core.
set -eu
BIN=${1:-.build/release}
RATES=${2:-100000,150000,175000,200000,225000,250000,275000,300000,325000,350000}
STEP=${3:-2}
SERVER_CPU=${SERVER_CPU:-0}
GENERATOR_CPU=${GENERATOR_CPU:-1}
WORKDIR=$(mktemp -d /tmp/pendulum-bench-serve.XXXXXX)
NTP_PORT_OURS=${NTP_PORT_OURS:-21123}
KE_PORT_OURS=${KE_PORT_OURS:-24460}
NTP_PORT_CHRONY=${NTP_PORT_CHRONY:-22123}
KE_PORT_CHRONY=${KE_PORT_CHRONY:-24461}
NTP_PORT_FLOOR=${NTP_PORT_FLOOR:-23123}
OURS_PID=""
CHRONY_PID=""
FLOOR_PID=""
cleanup() {
    [ -n "$OURS_PID" ] && kill "$OURS_PID" 2>/dev/null && wait "$OURS_PID" 2>/dev/null
    [ -n "$CHRONY_PID" ] && kill "$CHRONY_PID" 2>/dev/null && wait "$CHRONY_PID" 2>/dev/null
    [ -n "$FLOOR_PID" ] && kill "$FLOOR_PID" 2>/dev/null && wait "$FLOOR_PID" 2>/dev/null
    [ -n "${KEEP_WORKDIR:-}" ] || rm -rf "$WORKDIR"
}
trap cleanup EXIT INT TERM

. "$(dirname "$0")/benchmark-config.sh"
write_benchmark_config "$WORKDIR" "$NTP_PORT_OURS" "$KE_PORT_OURS"

write_chrony_config "$WORKDIR" "$NTP_PORT_CHRONY" "$KE_PORT_CHRONY"

taskset -c "$SERVER_CPU" "$BIN/pendulum-ntpd" --config "$WORKDIR/pendulum-ntpd.toml" 2> "$WORKDIR/pendulum-ntpd.log" &
OURS_PID=$!
taskset -c "$SERVER_CPU" chronyd -x -u root -d -f "$WORKDIR/chrony.conf" > "$WORKDIR/chronyd.log" 2>&1 &
CHRONY_PID=$!
# The kernel's floor: a reflector that does no work but take each request (with its receive
# timestamp) and send it back. No server can answer faster on that core. It stops by itself
# once every plain step could have run.
STEPS=$(echo "$RATES" | tr ',' '\n' | wc -l)
FLOOR_SECONDS=$(awk -v n="$STEPS" -v s="$STEP" 'BEGIN { print int(n * s * 3 * 1.5 + 30) }')
taskset -c "$SERVER_CPU" "$BIN/pendulum" bench reflect --listen "127.0.0.1:$NTP_PORT_FLOOR" --seconds "$FLOOR_SECONDS" > "$WORKDIR/floor.log" 2>&1 &
FLOOR_PID=$!
sleep 2

echo "== plain NTP =="
taskset -c "$GENERATOR_CPU" "$BIN/pendulum" bench serve --rates "$RATES" --step-seconds "$STEP" \
    --target "chronyd=127.0.0.1:$NTP_PORT_CHRONY" --target "pendulum-ntpd=127.0.0.1:$NTP_PORT_OURS" \
    --target "kernel-floor=127.0.0.1:$NTP_PORT_FLOOR"
kill "$FLOOR_PID" 2>/dev/null && wait "$FLOOR_PID" 2>/dev/null || true
FLOOR_PID=""
echo
echo "== NTS =="
taskset -c "$GENERATOR_CPU" "$BIN/pendulum" bench serve --nts --ca-file "$WORKDIR/cert.pem" --rates "$RATES" --step-seconds "$STEP" \
    --target "chronyd=127.0.0.1:$NTP_PORT_CHRONY@$KE_PORT_CHRONY" --target "pendulum-ntpd=127.0.0.1:$NTP_PORT_OURS@$KE_PORT_OURS"
echo
echo "pendulum-ntpd peak RSS: $(grep VmHWM /proc/$OURS_PID/status | tr -s ' ')"
