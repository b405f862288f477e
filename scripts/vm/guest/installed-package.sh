#!/usr/bin/env bash
# The installed-package scenario, inside the Debian 12 guest booted with systemd: run by
# pendulum-installed-check.service once pendulum-ntpd.service (from the .deb) has started.
# Collects the evidence into the results share for scripts/check-packages.sh to judge: the
# unit's state and the process's user and capabilities, `pendulum status` as a member of the
# group pendulum (and refused to a user outside it), the guest clock's offset from the host's
# chronyd measured by `pendulum query`, `systemd-analyze security`, a reload (SIGHUP) and a
# restart that keeps the drift file, pendulum-ptpd.service started by hand, the journal. Then
# powers the guest off.
set -uo pipefail
grep -qw pendulum.vm-guest /proc/cmdline || { echo "refusing to run outside the VM guest" >&2; exit 3; }
results=/run/pendulum-vm-results
mkdir -p "$results"
if ! mount -t 9p -o trans=virtio,version=9p2000.L,rw,msize=512000 results "$results"; then
    echo "pendulum-vm: cannot mount the results share"
    systemctl poweroff
    exit 1
fi
exec >"$results/guest.log" 2>&1
status=0
note() { echo "$(date -u +%T.%N | cut -c1-12) $*"; }
finish() {
    journalctl --boot --no-pager -u pendulum-ntpd.service >"$results/journal.txt" 2>&1
    journalctl --boot --no-pager >"$results/journal-all.txt" 2>&1
    systemctl --failed --no-legend --no-pager >"$results/failed-units.txt" 2>&1
    echo "$status" >"$results/exit-status"
    sync
    systemctl poweroff
    exit 0
}
wait_for() {  # SECONDS DESCRIPTION COMMAND...
    local limit=$1 description=$2; shift 2
    local deadline=$(( $(date +%s) + limit ))
    until "$@" >/dev/null 2>&1; do
        if (( $(date +%s) >= deadline )); then note "gave up after $limit s waiting for: $description"; return 1; fi
        sleep 1
    done
    note "$description"
}
synchronised() { runuser -u observer -- pendulum status --json | grep -q '"synchronized" *: *true'; }
unit_property() { systemctl show pendulum-ntpd.service --value -p "$1"; }

# Boot is not over while this service runs, so `systemd-analyze time` has nothing to say yet.
cut -d' ' -f1 /proc/uptime >"$results/uptime-at-check.txt"
note "check started $(cat "$results/uptime-at-check.txt") s after the kernel"
wait_for 60 "pendulum-ntpd.service is active" systemctl is-active --quiet pendulum-ntpd.service || { status=1; finish; }
wait_for 180 "synchronised, as seen by observer's pendulum status" synchronised || status=1
runuser -u observer -- pendulum status --json >"$results/status-observer.json" 2>&1
runuser -u observer -- pendulum status >"$results/status-observer.txt" 2>&1
# A user outside the group is refused, with a message saying so.
runuser -u nobody -- pendulum status >"$results/status-nobody.txt" 2>&1
echo "$?" >"$results/status-nobody.exit"

pid=$(unit_property MainPID)
grep -E '^(Uid|Gid|CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):' "/proc/$pid/status" >"$results/process.txt"
ps -o user=,group= -p "$pid" >"$results/process-user.txt"
systemd-analyze security --no-pager pendulum-ntpd.service >"$results/security.txt" 2>&1

# The clock as the host's reference sees it, after a minute of polling every 1 to 4 s.
sleep 60
for round in 1 2 3; do
    pendulum query 10.0.2.2:11123 --samples 4 --json >"$results/query-$round.json" 2>&1 || status=1
    sleep 5
done

# pendulum-ptpd.service, started by hand as an operator would once ptpd.toml is written.
systemctl start pendulum-ptpd.service || status=1
wait_for 30 "pendulum-ptpd.service is active" systemctl is-active --quiet pendulum-ptpd.service || status=1
sleep 8
runuser -u observer -- pendulum status --socket /run/pendulum/ptp-observe --json >"$results/ptp-status-observer.json" 2>&1
systemd-analyze security --no-pager pendulum-ptpd.service >"$results/ptp-security.txt" 2>&1
ptp_pid=$(systemctl show pendulum-ptpd.service --value -p MainPID)
grep -E '^(Uid|CapEff|NoNewPrivs|Seccomp):' "/proc/$ptp_pid/status" >"$results/ptp-process.txt"
systemctl stop pendulum-ptpd.service

# A sandbox that forbids clock_adjtime although the capability is there (a unit with
# SystemCallFilter=~@clock): pendulum-ntpd must refuse to start and say why, not run claiming
# steps the kernel refused.
sed 's|^observation-path = .*|observation-path = "/tmp/seccomp-check/observe"|' /etc/pendulum/ntpd.toml \
    | grep -v '^drift-file' >/tmp/seccomp-check.toml
systemd-run --wait --pipe --quiet --unit=pendulum-seccomp-check -p User=pendulum -p Group=pendulum \
    -p AmbientCapabilities=CAP_SYS_TIME -p SystemCallFilter=~@clock -p SystemCallErrorNumber=EPERM \
    /usr/sbin/pendulum-ntpd --config /tmp/seccomp-check.toml >"$results/seccomp-check.txt" 2>&1
echo "$?" >"$results/seccomp-check.exit"

# Reload: the same process goes on (SIGHUP re-reads certificates; this one has none).
systemctl reload pendulum-ntpd.service || status=1
sleep 2
echo "before $pid after $(unit_property MainPID) $(unit_property ActiveState)" >"$results/reload.txt"
# Restart: the drift file is written at stop and read back at start.
systemctl stop pendulum-ntpd.service
stat -c '%U:%G %a %s' /var/lib/pendulum/ntpd.drift >"$results/drift-file.txt" 2>&1
cat /var/lib/pendulum/ntpd.drift >>"$results/drift-file.txt" 2>&1
systemctl start pendulum-ntpd.service || status=1
wait_for 60 "active again after the restart" systemctl is-active --quiet pendulum-ntpd.service || status=1
finish
