#!/usr/bin/env bash
# The leap second of 2016-12-31, inserted by the guest kernel on pendulum-ntpd's word: the
# three servers and the daemon all read tzdata's leap-seconds.list (which, in 2016, has not
# expired). See leap-run.sh for the phases.
set -euo pipefail
source "$PENDULUM_REPO/scripts/vm/guest/common.sh"
LEAP_LIST=/usr/share/zoneinfo/leap-seconds.list
source "$PENDULUM_REPO/scripts/vm/guest/leap-run.sh"
