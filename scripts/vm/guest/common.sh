# Sourced by every guest scenario. Refuses to go on anywhere but inside the VM guest: these
# scenarios set and steer CLOCK_REALTIME.
if ! grep -qw pendulum.vm-guest /proc/cmdline; then
    echo "refusing to run: this scenario steers the system clock and runs only inside the VM guest (scripts/vm/run.sh)" >&2
    exit 3
fi
for word in $(cat /proc/cmdline); do
    case "$word" in pendulum.build=*) BUILD=${word#pendulum.build=} ;; esac
done
: "${BUILD:?no pendulum.build= on the kernel command line}"
: "${RESULTS:?}"
: "${SCRATCH:?}"  # the guest's own tmpfs: configurations and state never reach the host
SERVER=10.0.2.2:11123
kernel_clock() { /usr/bin/python3 "$PENDULUM_REPO/scripts/vm/kernel_clock.py" "$@"; }

# The daemon's configuration: standard input plus the observability every scenario uses, in
# the guest's own tmpfs, with a copy in the results.
write_config() {
    { cat; printf '\n[observability]\nobservation-path = "%s/observe"\nlog-level = "info"\n' "$SCRATCH"; } >"$SCRATCH/ntpd.toml"
    cp "$SCRATCH/ntpd.toml" "$RESULTS/ntpd.toml"
}
start_daemon() {  # LOG-FILE-NAME
    "$BUILD/pendulum-ntpd" --config "$SCRATCH/ntpd.toml" >"$RESULTS/$1" 2>&1 &
    daemon=$!
}
stop_daemon() {
    kill -TERM "$daemon"
    wait "$daemon" || true
}
