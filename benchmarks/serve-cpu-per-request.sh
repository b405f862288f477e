#!/bin/sh
# CPU time per answered request, pendulum-ntpd (one worker) beside chronyd -x, plain and NTS:
# each server gets a fixed load well below its limit while `perf stat -e task-clock` counts the
# CPU it uses (user and kernel, the loopback delivery of its replies included). Far less
# sensitive to other load on the machine than the highest-rate figures.
# Usage: benchmarks/serve-cpu-per-request.sh [BIN_DIR] [RATE] [SECONDS]
set -eu
BIN=${1:-.build/release}
RATE=${2:-40000}
STEP=${3:-3}
WORKDIR=$(mktemp -d /tmp/pendulum-bench-cpu.XXXXXX)
OURS_PID=""
CHRONY_PID=""
cleanup() {
    [ -n "$OURS_PID" ] && kill "$OURS_PID" 2>/dev/null && wait "$OURS_PID" 2>/dev/null
    [ -n "$CHRONY_PID" ] && kill "$CHRONY_PID" 2>/dev/null && wait "$CHRONY_PID" 2>/dev/null
    rm -rf "$WORKDIR"
}
trap cleanup EXIT INT TERM
. "$(dirname "$0")/benchmark-config.sh"
write_benchmark_config "$WORKDIR" 21323 24463
write_chrony_config "$WORKDIR" 22323 24464
taskset -c "${SERVER_CPU:-0}" "$BIN/pendulum-ntpd" --config "$WORKDIR/pendulum-ntpd.toml" 2> "$WORKDIR/pendulum-ntpd.log" &
OURS_PID=$!
taskset -c "${SERVER_CPU:-0}" chronyd -x -u root -d -f "$WORKDIR/chrony.conf" > "$WORKDIR/chronyd.log" 2>&1 &
CHRONY_PID=$!
sleep 2
measure() { # name pid mode target
    if [ "$3" = nts ]; then extra="--nts --ca-file $WORKDIR/cert.pem"; settle=1.5; else extra=""; settle=0.3; fi
    taskset -c "${GENERATOR_CPU:-1}" "$BIN/pendulum" bench serve $extra --rates "$RATE" --step-seconds "$STEP" --target "$1=$4" > "$WORKDIR/bench.txt" &
    bench=$!
    sleep "$settle"
    window=$(echo "$STEP - $settle + 0.2" | bc)
    perf stat -e task-clock -p "$2" -o "$WORKDIR/perf.txt" -- sleep "$window"
    wait "$bench"
    ms=$(grep task-clock "$WORKDIR/perf.txt" | awk '{gsub(",","",$1); print $1}')
    loss=$(head -1 "$WORKDIR/bench.txt" | grep -Eo 'loss +[0-9.]+ %' | grep -Eo '[0-9.]+')
    echo "$1 $3: $(echo "scale=2; $ms * 1000 / ($RATE * $window)" | bc) µs CPU per request ($ms ms over ${window} s at $RATE/s, loss $loss %)"
}
measure pendulum-ntpd "$OURS_PID" plain "127.0.0.1:21323"
measure chronyd "$CHRONY_PID" plain "127.0.0.1:22323"
measure pendulum-ntpd "$OURS_PID" nts "127.0.0.1:21323@24463"
measure chronyd "$CHRONY_PID" nts "127.0.0.1:22323@24464"
