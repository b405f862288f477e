# Host part of no-valid-time: three pendulum-ntpd NTS servers in the VM's namespace, each with
# a certificate of its own (its own key) from a test CA, valid from yesterday for 90 days and
# naming 10.0.2.2, the address the guest reaches them at:
#   NTS-KE 127.0.0.1:4460, NTP 11123   right time
#   NTS-KE 127.0.0.1:4461, NTP 11124   right time
#   NTS-KE 127.0.0.1:4462, NTP 11125   one hour ahead (overlay clock): the one that must be outvoted
# The guest trusts the CA through $results/ca.pem. This machine's clock is not touched: the
# servers have no sources and run on overlay clocks.
command -v openssl >/dev/null || fail "openssl is needed (scripts/install-test-dependencies.sh)"
pki="$results/pki"
mkdir -p -m 700 "$pki"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 365 \
    -subj "/CN=Pendulum VM test CA" -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign" \
    -keyout "$pki/ca-key.pem" -out "$results/ca.pem" 2>"$pki/openssl.log" || fail "openssl: $(cat "$pki/openssl.log")"
yesterday=$(date -u -d '1 day ago' +%Y%m%d%H%M%SZ)
in_90_days=$(date -u -d '90 days' +%Y%m%d%H%M%SZ)
for index in 0 1 2; do
    ke_port=$(( 4460 + index ))
    ntp_port=$(( 11123 + index ))
    offset=0
    [[ $index == 2 ]] && offset=3600
    dir="$results/server-$ntp_port"
    mkdir -p -m 700 "$dir"
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=10.0.2.2" \
        -keyout "$dir/key.pem" -out "$dir/request.pem" 2>>"$pki/openssl.log" || fail "openssl: $(cat "$pki/openssl.log")"
    printf 'subjectAltName=IP:10.0.2.2\nextendedKeyUsage=serverAuth\nbasicConstraints=critical,CA:FALSE\n' >"$dir/extensions"
    # `openssl x509 -not_before` needs OpenSSL 3.4; `ca` takes explicit dates everywhere.
    printf '[ca]\ndefault_ca=test\n[test]\nunique_subject=no\ndatabase=%s/index\nnew_certs_dir=%s\nserial=%s/serial\ndefault_md=sha256\npolicy=anything\ncopy_extensions=none\n[anything]\ncommonName=supplied\n' \
        "$pki" "$pki" "$pki" >"$pki/ca.conf"
    [[ -f $pki/index ]] || : >"$pki/index"
    [[ -f $pki/serial ]] || echo 1000 >"$pki/serial"
    openssl ca -batch -config "$pki/ca.conf" -cert "$results/ca.pem" -keyfile "$pki/ca-key.pem" \
        -startdate "$yesterday" -enddate "$in_90_days" -extfile "$dir/extensions" \
        -in "$dir/request.pem" -out "$dir/cert.pem" -notext 2>>"$pki/openssl.log" || fail "openssl ca: $(cat "$pki/openssl.log")"
    cat >"$dir/ntpd.toml" <<CONF
[[server]]
listen = "127.0.0.1:$ntp_port"
# The guest's daemon and its independent sampler reach us from one address, many times a
# second: no rate limit.
rate-limit-interval-ms = 0

[[nts-ke-server]]
listen = "127.0.0.1:$ke_port"
certificate-chain-path = "$dir/cert.pem"
private-key-path = "$dir/key.pem"
# The guest must come back to the address it knows us by, not to our loopback.
ntp-server = "10.0.2.2"
ntp-port = $ntp_port
rate-limit-interval-ms = 0

[keyset]
key-storage-path = "$dir/keys.bin"

[synchronization]
local-stratum = 1

[clock]
kind = "overlay"
initial-offset-seconds = $offset

[observability]
log-level = "info"
CONF
    ip netns exec "$namespace" "$build/pendulum-ntpd" --config "$dir/ntpd.toml" >"$results/server-$ntp_port.log" 2>&1 &
    reference_pids+=($!)
done
