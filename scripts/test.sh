#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs the real peers (chrony, tshark, linuxptp),
# builds, smoke-runs every fuzz target, then runs unit, simulation and interop tests.
#   scripts/test.sh               everything
#   FUZZ_SECONDS=60 scripts/test.sh   longer fuzz runs
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-test-dependencies.sh
swift build --build-tests
scripts/fuzz.sh --seconds "${FUZZ_SECONDS:-10}"
# Last, so the test runner's summary is the closing line.
swift test --skip-build
