#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs the real peers (chrony, tshark, linuxptp,
# NTPsec), builds (with the example app), checks the library's DocC, smoke-runs every fuzz target, then runs unit and
# simulation tests in parallel and the interop tests one at a time.
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
# deadlines; on a 2-core machine they are only meaningful one at a time. Last, so the test
# runner's summary is the closing line.
swift test --skip-build --filter PendulumInteropTests --no-parallel
