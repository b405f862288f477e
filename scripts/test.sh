#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs the real peers (chrony, tshark, linuxptp,
# NTPsec), builds (with the example app), checks the library's DocC, smoke-runs every fuzz target, then runs unit and
# simulation tests in parallel, the interop tests one at a time, and the package checks.
#   scripts/test.sh               everything
#   FUZZ_SECONDS=60 scripts/test.sh   longer fuzz runs
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-test-dependencies.sh
swift build --build-tests
# Examples/SecureTimeExample uses the library by path as an app would; the interop tests run
# it. Built into the same scratch directory, it reuses every module already compiled.
swift build --package-path Examples/SecureTimeExample --scratch-path .build
# The library's documentation (DocC): a broken symbol link or a malformed page fails the run.
swift package generate-documentation --target Pendulum --warnings-as-errors
scripts/fuzz.sh --seconds "${FUZZ_SECONDS:-10}"
swift test --skip-build --skip PendulumInteropTests
# Interop tests start real daemons (chronyd, ptp4l, NTPsec, ours) and judge convergence and
# deadlines; on a 2-core machine they are only meaningful one at a time.
# The machine's own clock must come out as it went in: frequency, tick, status bits and TAI
# offset, read (never set) before and after every test that starts a daemon.
host_clock() { python3 scripts/vm/kernel_clock.py state | python3 -c 'import json, sys; s = json.load(sys.stdin); print(" ".join(f"{k}={s[k]}" for k in ("frequency_ppm", "tick_us", "status", "tai")))'; }
host_clock_before=$(host_clock)
status=0
swift test --skip-build --filter PendulumInteropTests --no-parallel || status=$?
# The .deb and .rpm from a release build: lintian, dpkg install, upgrade and purge in a Debian 12
# chroot, and the installed service under systemd in a VM (scripts/check-packages.sh).
scripts/check-packages.sh || status=1
host_clock_after=$(host_clock)
if [ "$host_clock_before" != "$host_clock_after" ]; then
    echo "the tests changed this machine's clock state: before: $host_clock_before; after: $host_clock_after" >&2
    exit 1
fi
exit "$status"
