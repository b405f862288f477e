# Sourced by the leap scenarios' host parts (run.sh sources those in turn): three pendulum-ntpd
# servers with no sources (local-stratum 1) on 127.0.0.1:11123-11125 in the VM's namespace.
# Their overlay clocks start at the given UTC instant, and each announces and carries out the
# leap seconds of its own leap-seconds.list, so the guest sees a leap second within about a
# minute. This machine's clock is not touched: the servers run on overlay clocks.
#   start_leap_servers START-UNIX-SECONDS LIST LIST LIST
# Writes the overlay's offset from this machine's clock to $results/reference-offset, for the
# guest to set its own clock near the servers' day before starting its daemon.
start_leap_servers() {
    local start=$1
    shift
    local offset=$(( start - $(date +%s) ))
    echo "$offset" >"$results/reference-offset"
    local port=11123 list
    for list in "$@"; do
        local dir="$results/server-$port"
        mkdir -p "$dir"
        cat >"$dir/ntpd.toml" <<CONF
[[server]]
listen = "127.0.0.1:$port"
# The guest's daemon and its independent sampler reach us from one address, many times a
# second: no rate limit, or the daemon is sent RATE and loses a source.
rate-limit-interval-ms = 0

[synchronization]
local-stratum = 1

[clock]
kind = "overlay"
initial-offset-seconds = $offset
leap-seconds-file = "$list"

[observability]
log-level = "info"
CONF
        ip netns exec "$namespace" "$build/pendulum-ntpd" --config "$dir/ntpd.toml" >"$results/server-$port.log" 2>&1 &
        reference_pids+=($!)
        port=$(( port + 1 ))
    done
}
