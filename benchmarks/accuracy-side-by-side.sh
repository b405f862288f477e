#!/usr/bin/env bash
# Real-time accuracy side by side: pendulum-ntpd (on an overlay clock) and chronyd -x, both
# clients of ONE upstream chronyd -x on loopback, each through its own `pendulum bench proxy`
# with identical delay/jitter/loss settings (different seeds). Every scenario × polling setting
# runs at the same time, so a run takes WARMUP+DURATION seconds. See docs/accuracy.md.
#
#   benchmarks/accuracy-side-by-side.sh [BUILD_DIR]      (default .build/release)
#   env: SCENARIOS ("direct jitter100us jitter1ms asym500us loss10 delaystep"),
#        POLLING ("1s default"), WARMUP (60), DURATION (300), RUNS (1), OUT (a new temp dir)
#
# Never touches the system clock: every chronyd runs with -x and ours on an overlay clock.
# Loopback only; every process it starts is stopped by PID when it exits.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

bin=${1:-.build/release}
SCENARIOS=${SCENARIOS:-direct jitter100us jitter1ms asym500us loss10 delaystep}
POLLING=${POLLING:-1s default}
WARMUP=${WARMUP:-60}
DURATION=${DURATION:-300}
RUNS=${RUNS:-1}

fail() { echo "accuracy-side-by-side: $*" >&2; exit 1; }

for name in WARMUP DURATION RUNS; do
    [[ ${!name} =~ ^[0-9]+$ ]] || fail "$name must be a whole number, not '${!name}'"
done
[ "$DURATION" -ge 1 ] || fail "DURATION must be at least 1"
[ "$RUNS" -ge 1 ] && [ "$RUNS" -le 100 ] || fail "RUNS must be 1 to 100"
total=$((WARMUP + DURATION))
# The proxies stop by themselves 30 s after the run and accept at most 7200 s.
[ "$total" -le 7000 ] || fail "WARMUP+DURATION must be at most 7000 s"
for scenario in $SCENARIOS; do
    case $scenario in direct | jitter100us | jitter1ms | asym500us | loss10 | delaystep) ;; *) fail "unknown scenario '$scenario'" ;; esac
done
for polling in $POLLING; do
    case $polling in 1s | default) ;; *) fail "unknown polling '$polling' (1s or default)" ;; esac
done
command -v chronyd >/dev/null && command -v chronyc >/dev/null \
    || fail "chronyd and chronyc are needed (apt-get install chrony, or scripts/install-test-dependencies.sh)"
command -v python3 >/dev/null || fail "python3 is needed"
[ -x "$bin/pendulum" ] && [ -x "$bin/pendulum-ntpd" ] || fail "no pendulum and pendulum-ntpd in $bin (swift build -c release)"
bin=$(cd "$bin" && pwd)

OUT=${OUT:-$(mktemp -d /tmp/pendulum-accuracy-XXXXXX)}
mkdir -p -m 700 "$OUT"
OUT=$(cd "$OUT" && pwd)
echo "accuracy-side-by-side: results in $OUT"

pids=()
stop_started() {
    # Only what this script started, by PID, newest first.
    local i
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill "${pids[i]}" 2>/dev/null || true; done
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do wait "${pids[i]}" 2>/dev/null || true; done
    pids=()
}
trap stop_started EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket;s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

# The proxy's impairment for a scenario: µs-scale paths, as a LAN or a good WAN is.
proxy_settings() {
    local base="--delay 0.00005 --jitter 0.0001"
    case $1 in
        direct) echo "" ;;  # no proxy at all (see below)
        jitter100us) echo "$base" ;;
        jitter1ms) echo "--delay 0.00005 --jitter 0.001" ;;
        asym500us) echo "$base --request-delay 0.00055" ;;
        loss10) echo "$base --loss 0.1" ;;
        delaystep) echo "$base --step-at $(python3 -c "print($total / 2)") --step 0.001" ;;
    esac
}

python3 - "$OUT/settings.json" "$WARMUP" "$DURATION" "$RUNS" "$SCENARIOS" "$POLLING" "$bin" <<'PY'
import json, sys
path, warmup, duration, runs, scenarios, polling, build = sys.argv[1:]
json.dump({"warmup": int(warmup), "duration": int(duration), "runs": int(runs), "scenarios": scenarios.split(),
           "polling": polling.split(), "build": build}, open(path, "w"), indent=1)
PY

seed=1
for run in $(seq 1 "$RUNS"); do
    work="$OUT/run-$run"
    mkdir -p "$work"
    echo "run $run of $RUNS: ${total} s ($WARMUP warm-up + $DURATION measured)"

    upstream=$(free_port)
    cat >"$work/upstream.conf" <<CONF
port $upstream
bindaddress 127.0.0.1
allow all
local stratum 2
cmdport 0
pidfile $work/upstream.pid
driftfile $work/upstream.drift
CONF
    chronyd -x -u root -d -f "$work/upstream.conf" >"$work/upstream.log" 2>&1 &
    pids+=($!)
    # Serving as soon as a query is answered; bounded.
    for _ in $(seq 1 50); do
        "$bin/pendulum" query --samples 1 --timeout 0.5 --port "$upstream" 127.0.0.1 >/dev/null 2>&1 && break
        sleep 0.1
    done
    "$bin/pendulum" query --samples 1 --timeout 1 --port "$upstream" 127.0.0.1 >/dev/null 2>&1 \
        || fail "the upstream chronyd does not answer (log: $work/upstream.log)"

    for polling in $POLLING; do
        for scenario in $SCENARIOS; do
            name="$polling-$scenario"
            dir="$work/$name"
            mkdir -p -m 700 "$dir"  # chronyd refuses a command socket in a directory others can reach
            if [ "$scenario" = direct ]; then
                # Straight to the upstream: even a proxy with no delay adds its own latency.
                ours_proxy=$upstream
                chrony_proxy=$upstream
            else
                ours_proxy=$(free_port)
                chrony_proxy=$(free_port)
                # shellcheck disable=SC2046 # the settings are words on purpose
                "$bin/pendulum" bench proxy --listen "127.0.0.1:$ours_proxy" --upstream "127.0.0.1:$upstream" \
                    $(proxy_settings "$scenario") --seed "$seed" --seconds $((total + 30)) >"$dir/proxy-ours.log" 2>&1 &
                pids+=($!)
                # shellcheck disable=SC2046
                "$bin/pendulum" bench proxy --listen "127.0.0.1:$chrony_proxy" --upstream "127.0.0.1:$upstream" \
                    $(proxy_settings "$scenario") --seed $((seed + 1)) --seconds $((total + 30)) >"$dir/proxy-chrony.log" 2>&1 &
                pids+=($!)
                seed=$((seed + 2))
            fi

            if [ "$polling" = 1s ]; then ours_poll=$'minpoll = 0\nmaxpoll = 0'; chrony_poll="minpoll 0 maxpoll 0 "; else ours_poll=""; chrony_poll=""; fi
            cat >"$dir/ours.toml" <<CONF
[[source]]
mode = "server"
address = "127.0.0.1:$ours_proxy"
$ours_poll

# An overlay clock, started wrong: the benchmark never steers the machine's clock.
[clock]
kind = "overlay"
initial-offset-seconds = 0.5
initial-frequency-ppm = 20

[observability]
observation-path = "$dir/observe"
bounds-path = "$dir/bounds"
log-level = "${OURS_LOG_LEVEL:-warning}"
CONF
            cat >"$dir/chrony.conf" <<CONF
server 127.0.0.1 port $chrony_proxy ${chrony_poll}iburst
port 0
cmdport 0
bindcmdaddress $dir/chronyd.sock
pidfile $dir/chronyd.pid
driftfile $dir/chronyd.drift
CONF
        done
    done
    sleep 0.3  # the proxies bind

    start=$(date +%s.%N)
    manifest_pairs="[]"
    for polling in $POLLING; do
        for scenario in $SCENARIOS; do
            name="$polling-$scenario"
            dir="$work/$name"
            "$bin/pendulum-ntpd" --config "$dir/ours.toml" >"$dir/ours.log" 2>&1 &
            ours_pid=$!
            pids+=($ours_pid)
            chronyd -x -u root -d -f "$dir/chrony.conf" >"$dir/chronyd.log" 2>&1 &
            chrony_pid=$!
            pids+=($chrony_pid)
            manifest_pairs=$(python3 -c '
import json, sys
pairs = json.loads(sys.argv[1])
name, directory, work, ours_pid, chrony_pid = sys.argv[2:]
pairs.append(dict(name=name, csv=f"{work}/{name}.csv", observe=f"{directory}/observe", bounds=f"{directory}/bounds",
                  chrony_socket=f"{directory}/chronyd.sock", ours_pid=int(ours_pid), chrony_pid=int(chrony_pid)))
print(json.dumps(pairs))' "$manifest_pairs" "$name" "$dir" "$work" "$ours_pid" "$chrony_pid")
        done
    done
    python3 -c '
import json, sys
pairs, start, warmup, duration, work = sys.argv[1:]
json.dump(dict(pairs=json.loads(pairs), start_wall=float(start), warmup=int(warmup), duration=int(duration),
               resources=f"{work}/resources.json"), open(f"{work}/manifest.json", "w"), indent=1)' \
        "$manifest_pairs" "$start" "$WARMUP" "$DURATION" "$work"

    # In the background and waited for, so that INT/TERM stop the run at once (bash runs a
    # trap only after a foreground child has finished).
    python3 "$repo/benchmarks/accuracy_sampler.py" sample "$work/manifest.json" &
    sampler=$!
    pids+=($sampler)
    wait "$sampler"

    # A daemon that died during the run shows in its log; say so rather than report silence.
    for polling in $POLLING; do
        for scenario in $SCENARIOS; do
            dir="$work/$polling-$scenario"
            [ -s "$dir/ours.log" ] && { echo "pendulum-ntpd ($polling-$scenario) logged:"; head -5 "$dir/ours.log"; }
        done
    done
    stop_started
    for polling in $POLLING; do
        for scenario in $SCENARIOS; do
            dir="$work/$polling-$scenario"
            [ -f "$dir/proxy-ours.log" ] || continue
            echo "$polling-$scenario: ours $(tail -1 "$dir/proxy-ours.log")"
            echo "$polling-$scenario: chrony $(tail -1 "$dir/proxy-chrony.log")"
        done
    done
done

python3 "$repo/benchmarks/accuracy_sampler.py" report "$OUT"
echo "accuracy-side-by-side: summary in $OUT/summary.txt and $OUT/summary.json, plots in $OUT/*.svg"
