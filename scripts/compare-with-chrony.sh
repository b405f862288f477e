#!/usr/bin/env bash
# pendulum-ntpd and chronyd side by side as clients of the same upstream chronyd -x on loopback:
# time to the first synchronisation, time to |error| < 1 ms (ours, on an overlay clock started
# +0.25 s / +30 ppm wrong: chrony -x cannot be judged by that since it never moves a clock),
# and peak RSS (VmHWM) and private memory (RssAnon) after RUN_SECONDS, each client also
# serving NTP on one port.
#   scripts/compare-with-chrony.sh            (uses .build/release if built, else .build/debug)
# Never touches the system clock: every chronyd runs with -x, ours on an overlay clock.
set -euo pipefail
cd "$(dirname "$0")/.."
RUN_SECONDS=${RUN_SECONDS:-60}
bin=.build/release
[ -x "$bin/pendulum-ntpd" ] && [ -x "$bin/pendulum" ] || bin=.build/debug
work=$(mktemp -d /tmp/pendulum-compare-XXXXXX)
chmod 700 "$work"
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; sleep 0.5; rm -rf "$work"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket;s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
upstream=$(free_port); ours_serve=$(free_port); chrony_serve=$(free_port)

cat >"$work/upstream.conf" <<CONF
port $upstream
bindaddress 127.0.0.1
allow all
local stratum 2
cmdport 0
pidfile $work/upstream.pid
CONF
chronyd -x -u root -d -f "$work/upstream.conf" >"$work/upstream.log" 2>&1 &
pids+=($!)
sleep 1

cat >"$work/ours.toml" <<CONF
[[source]]
address = "127.0.0.1:$upstream"
[[server]]
listen = "127.0.0.1:$ours_serve"
[clock]
kind = "overlay"
initial-offset-seconds = 0.25
initial-frequency-ppm = 30
[observability]
observation-path = "$work/observe"
log-level = "warning"
CONF
cat >"$work/client.conf" <<CONF
server 127.0.0.1 port $upstream iburst
port $chrony_serve
bindaddress 127.0.0.1
allow all
cmdport 0
bindcmdaddress $work/chronyd.sock
pidfile $work/client.pid
driftfile $work/drift
CONF

now() { date +%s.%N; }
start=$(now)
"$bin/pendulum-ntpd" --config "$work/ours.toml" 2>"$work/ours.log" &
ours=$!; pids+=($ours)
chronyd -x -u root -d -f "$work/client.conf" >"$work/client.log" 2>&1 &
chrony=$!; pids+=($chrony)

ours_sync=""; ours_1ms=""; chrony_sync=""
while :; do
    elapsed=$(python3 -c "print(f'{$(now) - $start:.1f}')")
    if [ -z "$ours_sync$ours_1ms" ] || [ -z "$ours_1ms" ] || [ -z "$ours_sync" ]; then
        json=$("$bin/pendulum" status --json --socket "$work/observe" 2>/dev/null || true)
        if [ -n "$json" ]; then
            read -r synced error < <(python3 -c 'import json,sys;d=json.loads(sys.argv[1]);print(d["system"]["synchronized"], abs(d["clock"].get("offset_from_system_seconds") or 1))' "$json")
            [ -z "$ours_sync" ] && [ "$synced" = "True" ] && ours_sync=$elapsed
            [ -z "$ours_1ms" ] && python3 -c "import sys;sys.exit(0 if $error < 0.001 else 1)" && ours_1ms=$elapsed
        fi
    fi
    if [ -z "$chrony_sync" ] && chronyc -h "$work/chronyd.sock" -n tracking 2>/dev/null | grep -q "Leap status     : Normal"; then
        chrony_sync=$elapsed
    fi
    if python3 -c "import sys;sys.exit(0 if $elapsed >= $RUN_SECONDS else 1)"; then break; fi
    sleep 0.25
done
rss() { awk -v key="$2:" '$1 == key {print $2}' "/proc/$1/status"; }
ours_rss=$(rss $ours VmHWM); chrony_rss=$(rss $chrony VmHWM)
ours_anon=$(rss $ours RssAnon); chrony_anon=$(rss $chrony RssAnon)
echo "after ${RUN_SECONDS} s, each a client of chronyd -x on loopback and serving one NTP port ($bin):"
printf '%-34s %-14s %-14s %s\n' "" "pendulum-ntpd" "chronyd 4.3" "ratio (ours/chrony)"
printf '%-34s %-14s %-14s %s\n' "first synchronised (s)" "${ours_sync:-never}" "${chrony_sync:-never}" \
    "$(python3 -c "print(f'{${ours_sync:-0}/${chrony_sync:-1}:.2f}')")"
printf '%-34s %-14s %-14s %s\n' "|error| < 1 ms (s)" "${ours_1ms:-never}" "n/a (-x)" ""
printf '%-34s %-14s %-14s %s\n' "peak RSS, VmHWM (KiB)" "$ours_rss" "$chrony_rss" "$(python3 -c "print(f'{$ours_rss/$chrony_rss:.2f}')")"
printf '%-34s %-14s %-14s %s\n' "private memory, RssAnon (KiB)" "$ours_anon" "$chrony_anon" "$(python3 -c "print(f'{$ours_anon/$chrony_anon:.2f}')")"
echo "(the rest of RSS is shared library pages: the Swift runtime and Foundation, shared by every Swift process)"
