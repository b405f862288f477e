# Sourced by the serve-* benchmarks: pendulum-ntpd's benchmark configuration, the same in each
# (one worker, no rate limit, local stratum 2, an overlay clock so a benchmark never steers the
# machine's clock), and with NTS a throw-away certificate that chronyd can use as well.
#
# write_benchmark_config DIR NTP_PORT [KE_PORT]
#   writes DIR/pendulum-ntpd.toml; with KE_PORT also DIR/cert.pem and DIR/key.pem and an NTS-KE
#   server on KE_PORT.
# write_chrony_config DIR NTP_PORT KE_PORT
#   writes DIR/chrony.conf: chronyd as the comparison server (run it with -x), NTS-KE with the
#   same certificate (write_benchmark_config with a KE port first), no rate limit (chrony's
#   default), NTS-KE in the main process.
write_benchmark_config() {
    config_dir=$1
    config_ntp_port=$2
    config_ke_port=${3:-}
    cat > "$config_dir/pendulum-ntpd.toml" <<CONF
[[server]]
listen = "127.0.0.1:$config_ntp_port"
workers = 1
rate-limit-interval-ms = 0

[synchronization]
local-stratum = 2

# Serve an overlay of the system clock: a benchmark never gets to steer the machine's clock.
[clock]
kind = "overlay"
CONF
    [ -n "$config_ke_port" ] || return 0
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=localhost \
        -addext "subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost" \
        -keyout "$config_dir/key.pem" -out "$config_dir/cert.pem" 2>/dev/null
    cat >> "$config_dir/pendulum-ntpd.toml" <<CONF

[[nts-ke-server]]
listen = "127.0.0.1:$config_ke_port"
certificate-chain-path = "cert.pem"
private-key-path = "key.pem"
ntp-port = $config_ntp_port

[keyset]
key-storage-path = "keys.bin"
CONF
}

write_chrony_config() {
    cat > "$1/chrony.conf" <<CONF
port $2
bindaddress 127.0.0.1
allow all
local stratum 2
cmdport 0
pidfile $1/chronyd.pid
driftfile $1/drift
ntsport $3
ntsserverkey $1/key.pem
ntsservercert $1/cert.pem
ntsdumpdir $1
ntsprocesses 0
CONF
}
