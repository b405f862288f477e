#!/bin/sh
# NTS-KE under a connection flood, pendulum-ntpd and chronyd -x side by side on loopback: for
# each scenario, `pendulum bench ntske-flood` holds the flood against one server while an
# honest NTS-KE client from 127.0.0.1 runs complete exchanges; then the same against the other.
#
# Usage: benchmarks/ntske-flood-side-by-side.sh [BIN_DIR] [SECONDS] [PROBES]
#   BIN_DIR defaults to .build/release (build with `swift build -c release`).
# Scenarios (3000 connections each, re-opened as the server closes them, so the flood keeps
# its size for SECONDS): idle connections from one address (127.2.0.1); ClientHellos and then
# silence from one address; ClientHellos and silence from 300 addresses each in its own /24
# (127.1.0.1, 127.1.1.1, …). The servers are pinned to CPU 0 and the flood and honest client to
# CPU 1 (SERVER_CPU / GENERATOR_CPU), so the attacker does not win by starving the server of CPU.
# RSS is pendulum-ntpd's, before, at most during, and SETTLE seconds (default 60) after.
set -eu
BIN=${1:-.build/release}
SECONDS_EACH=${2:-20}
PROBES=${3:-100}
SETTLE=${SETTLE:-60}
SERVER_CPU=${SERVER_CPU:-0}
GENERATOR_CPU=${GENERATOR_CPU:-1}
WORKDIR=$(mktemp -d /tmp/pendulum-bench-ntske-flood.XXXXXX)
NTP_PORT_OURS=${NTP_PORT_OURS:-25123}
KE_PORT_OURS=${KE_PORT_OURS:-25460}
NTP_PORT_CHRONY=${NTP_PORT_CHRONY:-26123}
KE_PORT_CHRONY=${KE_PORT_CHRONY:-26460}
OURS_PID=""
CHRONY_PID=""
cleanup() {
    [ -n "$OURS_PID" ] && kill "$OURS_PID" 2>/dev/null && wait "$OURS_PID" 2>/dev/null
    [ -n "$CHRONY_PID" ] && kill "$CHRONY_PID" 2>/dev/null && wait "$CHRONY_PID" 2>/dev/null
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
sleep 2

flood() { # NAME KE_PORT PID KIND SOURCES STRIDE SETTLE
    taskset -c "$GENERATOR_CPU" "$BIN/pendulum" bench ntske-flood --json --port "$2" --ca-file "$WORKDIR/cert.pem" \
        --connections 3000 --kind "$4" --first-source "$( [ "$5" = 1 ] && echo 127.2.0.1 || echo 127.1.0.1 )" \
        --sources "$5" --source-stride "$6" --duration "$SECONDS_EACH" --probes "$PROBES" --reopen \
        --pid "$3" --settle "$7" > "$WORKDIR/$1.json"
    python3 - "$1" "$WORKDIR/$1.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[2]))
rss = ""
if r.get("rssBeforeKiB"):
    rss = " | RSS %d → %d → %d MiB" % (r["rssBeforeKiB"] // 1024, r["rssPeakKiB"] // 1024, r["rssAfterKiB"] // 1024)
med = r.get("probeMedianMilliseconds"); mx = r.get("probeMaximumMilliseconds")
print("%-34s honest %3d/%d within 1 s | median %s ms | max %s ms | flood opened %d%s" % (
    sys.argv[1], r["probesWithinDeadline"], r["probes"], "-" if med is None else "%.1f" % med,
    "-" if mx is None else "%.0f" % mx, r["floodOpened"], rss))
for failure, count in sorted(r["failures"].items(), key=lambda item: -item[1])[:2]:
    print("%34s   %d× %s" % ("", count, failure[:110]))
PY
}

for scenario in "idle 1 1" "hello 1 1" "hello 300 256"; do
    set -- $scenario
    name="$1-from-$2"
    flood "chronyd:$name" "$KE_PORT_CHRONY" "$CHRONY_PID" "$1" "$2" "$3" 0
    flood "pendulum-ntpd:$name" "$KE_PORT_OURS" "$OURS_PID" "$1" "$2" "$3" "$SETTLE"
done
echo
grep -E "nts-ke" "$WORKDIR/pendulum-ntpd.log" || true
