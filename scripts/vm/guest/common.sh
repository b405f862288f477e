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
