#!/bin/sh
# Memory of pendulum-ntpd under sustained load: one worker, plain NTP (or NTS with MODE=nts)
# at RATE requests/s for SECONDS, resident set size sampled every 5 s.
# Usage: [MODE=nts] benchmarks/serve-rss.sh [BIN_DIR] [RATE] [SECONDS]
set -eu
BIN=${1:-.build/release}
RATE=${2:-200000}
SECONDS_TOTAL=${3:-60}
PORT=${NTP_PORT:-21223}
KE_PORT=${KE_PORT:-24470}
MODE=${MODE:-plain}
WORKDIR=$(mktemp -d /tmp/pendulum-serve-rss.XXXXXX)
PID=""
cleanup() {
    [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
    rm -rf "$WORKDIR"
}
trap cleanup EXIT INT TERM
. "$(dirname "$0")/benchmark-config.sh"
TARGET="pendulum-ntpd=127.0.0.1:$PORT"
NTS_FLAGS=""
if [ "$MODE" = nts ]; then
    write_benchmark_config "$WORKDIR" "$PORT" "$KE_PORT"
    TARGET="$TARGET@$KE_PORT"
    NTS_FLAGS="--nts --ca-file $WORKDIR/cert.pem"
else
    write_benchmark_config "$WORKDIR" "$PORT"
fi
taskset -c "${SERVER_CPU:-0}" "$BIN/pendulum-ntpd" --config "$WORKDIR/pendulum-ntpd.toml" 2> "$WORKDIR/log" &
PID=$!
sleep 1
echo "t=0 s: $(grep VmRSS /proc/$PID/status | tr -s ' ')"
# shellcheck disable=SC2086  # NTS_FLAGS is two words or none
taskset -c "${GENERATOR_CPU:-1}" "$BIN/pendulum" bench serve $NTS_FLAGS --rates "$RATE" --step-seconds "$SECONDS_TOTAL" \
    --target "$TARGET" > "$WORKDIR/bench.txt" &
BENCH=$!
elapsed=0
while kill -0 "$BENCH" 2>/dev/null; do
    sleep 5
    elapsed=$((elapsed + 5))
    kill -0 "$BENCH" 2>/dev/null && echo "t=$elapsed s: $(grep VmRSS /proc/$PID/status | tr -s ' ')"
done
wait "$BENCH" || true
head -1 "$WORKDIR/bench.txt"
echo "peak: $(grep VmHWM /proc/$PID/status | tr -s ' ')"
