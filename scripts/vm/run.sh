#!/usr/bin/env bash
# Runs one kernel-clock scenario in a qemu guest (software emulation) and collects its results.
#   scripts/vm/run.sh SCENARIO [RESULTS-DIR]
# SCENARIO is a script in scripts/vm/guest/. The guest boots Debian's kernel with a busybox
# initramfs, sees this machine's root read-only (so it runs the binaries in .build/ directly),
# has a clock of its own, and reaches a chronyd -x reference server through qemu's user network
# (10.0.2.2:11123 in the guest is 127.0.0.1:11123 here), or the reference servers the scenario
# starts in scripts/vm/host/SCENARIO.sh. qemu and the servers run in a network namespace this
# script makes and removes. This machine's clock is never changed: chronyd runs
# with -x, everything that steers runs inside the guest, and the kernel's adjtimex state here is
# recorded before and after (host-clock-before.json, host-clock-after.json).
# Prints the results folder: guest.log, exit-status, console.log, chronyd.log and the
# scenario's own files. Exit status: the scenario's (or 2 when the harness itself failed).
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
scenario="${1:?usage: scripts/vm/run.sh SCENARIO [RESULTS-DIR]}"
results="${2:-$(mktemp -d /tmp/pendulum-vm-$scenario.XXXXXX)}"
limit="${PENDULUM_VM_TIME_LIMIT:-300}"
fail() { echo "run.sh: $*" >&2; exit 2; }

[[ -f $repo/scripts/vm/guest/$scenario.sh ]] || fail "no scenario $scenario (scripts/vm/guest/)"
[[ $(id -u) == 0 ]] || fail "needs root (network namespaces, 9p shares)"
command -v chronyd >/dev/null || fail "chronyd is needed (scripts/install-test-dependencies.sh)"
boot="$("$repo/scripts/vm/prepare.sh")" || fail "cannot prepare the VM"
mkdir -p "$results"
results="$(cd "$results" && pwd)"
python=/usr/bin/python3
"$python" "$repo/scripts/vm/kernel_clock.py" state >"$results/host-clock-before.json"

namespace="pendulum-vm-$$"
chronyd_pid=""
reference_pids=()
cleanup() {
    if [[ -n $chronyd_pid ]]; then
        # A parent (the test runner) may have started us with SIGTERM blocked, which chronyd
        # inherits: follow up with SIGKILL rather than wait for ever.
        kill "$chronyd_pid" 2>/dev/null || true
        sleep 0.3
        kill -KILL "$chronyd_pid" 2>/dev/null || true
        wait "$chronyd_pid" 2>/dev/null || true
    fi
    for pid in "${reference_pids[@]}"; do
        kill "$pid" 2>/dev/null || true
        sleep 0.3
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    ip netns delete "$namespace" 2>/dev/null || true
    if [[ -n ${remove_guest_root:-} && -n ${guest_root:-} ]]; then rm -rf --one-file-system "$guest_root"; fi
    "$python" "$repo/scripts/vm/kernel_clock.py" state >"$results/host-clock-after.json" || true
}
trap cleanup EXIT
ip netns add "$namespace" || fail "cannot create network namespace $namespace"
ip netns exec "$namespace" ip link set lo up

# The guest runs the build folder's binaries in place; PENDULUM_VM_BUILD picks another.
build="${PENDULUM_VM_BUILD:-$repo/.build/debug}"
[[ -x $build/pendulum-ntpd ]] || fail "no pendulum-ntpd in $build (swift build first)"

# The scenario's own preparation, if any (scripts/vm/host/SCENARIO.sh, sourced here): it may
# start its own reference servers in $namespace (adding their process ids to reference_pids),
# and may set guest_root to a Debian root it prepared, which the guest then boots with systemd.
guest_root=""
if [[ -f $repo/scripts/vm/host/$scenario.sh ]]; then
    source "$repo/scripts/vm/host/$scenario.sh"
fi
# Otherwise the reference is a chronyd -x on 127.0.0.1:11123.
if ((${#reference_pids[@]} == 0)); then
    server_dir="$results/chronyd"
    mkdir -p -m 700 "$server_dir"
    cat >"$server_dir/chrony.conf" <<CONF
port 11123
bindaddress 127.0.0.1
allow all
local stratum 1
cmdport 0
pidfile $server_dir/chronyd.pid
driftfile $server_dir/drift
CONF
    ip netns exec "$namespace" chronyd -x -u root -d -f "$server_dir/chrony.conf" >"$results/chronyd.log" 2>&1 &
    chronyd_pid=$!
fi
# The guest's root: this machine's, read-only (the scenario runs chrooted into it), or the
# prepared Debian root, writable, with file ownership passed through (its own users own files).
if [[ -n $guest_root ]]; then
    root_share=(-virtfs "local,path=$guest_root,mount_tag=guestroot,security_model=passthrough,multidevs=remap")
    root_argument=" pendulum.root=guestroot"
else
    root_share=(-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap)
    root_argument=""
fi
start=$(date +%s)
set +e
ip netns exec "$namespace" timeout --kill-after=10 "$limit" \
    qemu-system-x86_64 -accel tcg -m 1024 -smp 1 -nographic -no-reboot \
    -kernel "$boot/vmlinuz" -initrd "$boot/initrd.gz" \
    -append "console=ttyS0 quiet panic=-1 pendulum.vm-guest pendulum.scenario=$scenario pendulum.repo=$repo pendulum.build=$build$root_argument" \
    "${root_share[@]}" \
    -virtfs "local,path=$results,mount_tag=results,security_model=none" \
    -netdev user,id=n0 -device virtio-net-pci,netdev=n0 </dev/null >"$results/console.log" 2>&1
qemu_status=$?
set -e
echo "$(( $(date +%s) - start ))" >"$results/wall-seconds"
[[ $qemu_status == 124 || $qemu_status == 137 ]] && fail "the guest did not power off within $limit s (console: $results/console.log)"
[[ -f $results/exit-status ]] || fail "the scenario did not finish (status $qemu_status; console: $results/console.log)"
echo "$results"
exit "$(cat "$results/exit-status")"
