#!/usr/bin/env bash
# A machine without a working RTC boots at 2001-01-01, so no NTS server's certificate is
# valid at its clock. The host part (scripts/vm/host/no-valid-time.sh) runs three NTS servers
# with certificates valid today, the third one hour ahead. pendulum-ntpd (kind = "system")
# runs four times, each sampled by an independent NTP client against the first server:
#   single       one NTS source: must not touch the clock (20 s);
#   disagreeing  the right one and the hour-ahead one: must not touch the clock (20 s);
#   always       two right ones, certificate-time-check = "always": NTS-KE fails (15 s);
#   agreeing     all three: the two right ones agree, the clock is set and held, the
#                hour-ahead one outvoted, the certificates checked again against it (40 s).
set -euo pipefail
source "$PENDULUM_REPO/scripts/vm/guest/common.sh"

kernel_clock set-offset $(( 978307200 - $(date +%s) ))
kernel_clock state >"$RESULTS/state-at-start.json"

nts_source() {  # KE-PORT
    printf '[[source]]\nmode = "nts"\naddress = "10.0.2.2"\nke-port = %s\nca-file = "%s/ca.pem"\nminpoll = 0\nmaxpoll = 3\n\n' "$1" "$RESULTS"
}
run_phase() {  # NAME SECONDS [LOG-LEVEL] (configuration on standard input)
    write_config
    sed -i "s/^log-level = .*/log-level = \"${3:-info}\"/" "$SCRATCH/ntpd.toml"
    cp "$SCRATCH/ntpd.toml" "$RESULTS/ntpd-$1.toml"
    start_daemon "ntpd-$1.log"
    kernel_clock sample "$SERVER" "$2" "$RESULTS/samples-$1.jsonl"
    stop_daemon
}

{ nts_source 4460; printf '[clock]\nkind = "system"\n'; } | run_phase single 20
{ nts_source 4460; nts_source 4462; printf '[clock]\nkind = "system"\n'; } | run_phase disagreeing 20
{ nts_source 4460; nts_source 4461; printf '[clock]\nkind = "system"\n\n[synchronization]\ncertificate-time-check = "always"\n'; } | run_phase always 15
kernel_clock state >"$RESULTS/state-before-agreeing.json"
# Two of three, as an operator with three sources would set it: the daemon's default with three
# is all three, and one of them is wrong here on purpose.
{ nts_source 4460; nts_source 4461; nts_source 4462; printf '[clock]\nkind = "system"\n\n[synchronization]\nminimum-agreeing-sources = 2\n'; } | run_phase agreeing 40 debug
kernel_clock state >"$RESULTS/state-at-end.json"
