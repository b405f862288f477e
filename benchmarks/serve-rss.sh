#!/bin/sh
# Memory of pendulum-ntpd under sustained load: one worker, plain NTP at RATE requests/s for
# SECONDS, resident set size sampled every 5 s.
# Usage: benchmarks/serve-rss.sh [BIN_DIR] [RATE] [SECONDS]
set -eu
BIN=${1:-.build/release}
RATE=${2:-200000}
SECONDS_TOTAL=${3:-60}
PORT=${NTP_PORT:-21223}
WORKDIR=$(mktemp -d /tmp/pendulum-serve-rss.XXXXXX)
PID=""
cleanup() {
    [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
    rm -rf "$WORKDIR"
}
trap cleanup EXIT INT TERM
cat > "$WORKDIR/pendulum-ntpd.toml" <<CONF
[[server]]
listen = "127.0.0.1:$PORT"
workers = 1
rate-limit-interval-ms = 0
[synchronization]
local-stratum = 2

# Serve an overlay of the system clock: a benchmark never gets to steer the machine's clock.
[clock]
kind = "overlay"
CONF
taskset -c "${SERVER_CPU:-0}" "$BIN/pendulum-ntpd" --config "$WORKDIR/pendulum-ntpd.toml" 2> "$WORKDIR/log" &
PID=$!
sleep 1
echo "t=0 s: $(grep VmRSS /proc/$PID/status | tr -s ' ')"
taskset -c "${GENERATOR_CPU:-1}" "$BIN/pendulum" bench serve --rates "$RATE" --step-seconds "$SECONDS_TOTAL" \
    --target "pendulum-ntpd=127.0.0.1:$PORT" > "$WORKDIR/bench.txt" &
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
