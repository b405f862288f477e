#!/usr/bin/env bash
# The scenarios of accuracy-side-by-side.sh in `pendulum simulate` (virtual time, seeded), so
# that the simulator's figures can be set beside the real-time ones (docs/accuracy.md).
#   benchmarks/accuracy-simulated.sh [BUILD_DIR]     (default .build/release)
#   env: SCENARIOS, POLLING, WARMUP (60), DURATION (300), RUNS (10 seeds per scenario)
# The simulator drives the discipline core with the daemon's poll settings, start-up burst and
# steering; the network is modelled per direction as the proxy's settings say. Loopback's own
# few microseconds and the server's timestamping are not modelled: `direct` is 1 µs + Exp(1 µs).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-.build/release}
SCENARIOS=${SCENARIOS:-direct jitter100us jitter1ms asym500us loss10 delaystep}
POLLING=${POLLING:-1s default}
WARMUP=${WARMUP:-60}
DURATION=${DURATION:-300}
RUNS=${RUNS:-10}
[ -x "$bin/pendulum" ] || { echo "no $bin/pendulum (swift build -c release)" >&2; exit 1; }
total=$((WARMUP + DURATION))

paths() {
    case $1 in
        direct) echo "--base-delay 1e-6 --jitter 1e-6" ;;
        jitter100us) echo "--base-delay 50e-6 --jitter 100e-6" ;;
        jitter1ms) echo "--base-delay 50e-6 --jitter 1e-3" ;;
        # The proxy's request direction is the simulator's "up" path.
        asym500us) echo "--delay-up 550e-6+exp(100e-6) --delay-down 50e-6+exp(100e-6)" ;;
        loss10) echo "--base-delay 50e-6 --jitter 100e-6 --loss 0.1" ;;
        delaystep) echo "--base-delay 50e-6 --jitter 100e-6 --delay-step-at $((total / 2)) --delay-step 1e-3" ;;
        *) echo "unknown scenario $1" >&2; exit 1 ;;
    esac
}

for polling in $POLLING; do
    case $polling in 1s) poll="--minpoll 0 --maxpoll 0" ;; default) poll="" ;; *) echo "unknown polling $polling" >&2; exit 1 ;; esac
    echo "polling $polling: simulated clock error in µs over $DURATION s after $WARMUP s, mean of $RUNS seeds"
    printf '%-12s %10s %10s\n' scenario "RMS" "max"
    for scenario in $SCENARIOS; do
        # shellcheck disable=SC2046 # the options are words on purpose
        json=$("$bin/pendulum" simulate $(paths "$scenario") $poll --initial-offset 0.5 --initial-frequency 20e-6 \
            --wander 1e-12 --duration "$total" --warmup "$WARMUP" --runs "$RUNS" --json)
        python3 -c 'import json,sys; d=json.loads(sys.argv[2]); print("%-12s %10.1f %10.1f" % (sys.argv[1], d["rms_offset_seconds"]*1e6, d["max_offset_seconds"]*1e6))' "$scenario" "$json"
    done
    echo
done
