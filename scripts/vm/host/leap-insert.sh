# Host part of leap-insert: three servers at 2016-12-31 23:58:50 UTC, each with tzdata's
# leap-seconds.list, which has the real leap second inserted at the end of that day.
source "$repo/scripts/vm/host/leap-servers.sh"
tzdata=/usr/share/zoneinfo/leap-seconds.list
start_leap_servers 1483228730 "$tzdata" "$tzdata" "$tzdata"
