# Host part of leap-delete: three servers at 2027-06-30 23:58:50 UTC. Two announce a (fictional)
# deleted second at the end of that day, the third an inserted one: the majority must win and
# the minority be ignored.
source "$repo/scripts/vm/host/leap-servers.sh"
fixtures="$repo/scripts/vm/fixtures"
start_leap_servers 1814399930 "$fixtures/leap-seconds-delete-2027.list" "$fixtures/leap-seconds-delete-2027.list" \
    "$fixtures/leap-seconds-insert-2027.list"
