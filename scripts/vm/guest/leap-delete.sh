#!/usr/bin/env bash
# A (fictional) deleted second at the end of 2027-06-30, decided by the sources alone: the
# daemon has no leap-seconds.list, two servers announce a deletion and the third an
# insertion, which as a minority must be ignored. See leap-run.sh for the phases.
set -euo pipefail
source "$PENDULUM_REPO/scripts/vm/guest/common.sh"
LEAP_LIST=none
source "$PENDULUM_REPO/scripts/vm/guest/leap-run.sh"
