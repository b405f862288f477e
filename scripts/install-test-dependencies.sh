#!/usr/bin/env bash
# Installs the real peers the test suite runs against: chrony (chronyd -x only), linuxptp,
# tshark, NTPsec unpacked beside the repo (its package conflicts with chrony's), and qemu for
# the kernel-clock VM tests (their guest kernel is fetched by scripts/vm/prepare.sh), and what
# scripts/check-packages.sh builds and checks packages with (lintian, debootstrap, rpm, dpkg-dev).
# Idempotent; needs root (CI runs as root). Never starts or enables any of these as services.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
for program in chronyd:chrony tshark:tshark ptp4l:linuxptp openssl:openssl groff:groff-base curl:curl \
               qemu-system-x86_64:qemu-system-x86 depmod:kmod cpio:cpio \
               lintian:lintian debootstrap:debootstrap rpmbuild:rpm dpkg-shlibdeps:dpkg-dev; do
    command -v "${program%%:*}" >/dev/null 2>&1 || [ -x "/usr/sbin/${program%%:*}" ] || need+=("${program#*:}")
done

if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "missing: ${need[*]}; run this script as root (apt-get install)" >&2
        exit 1
    fi
    # Package installs must not start daemons: a system chronyd would steer this machine's clock.
    policy=/usr/sbin/policy-rc.d
    created_policy=0
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && created_policy=1
    fi
    export DEBIAN_FRONTEND=noninteractive
    echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections 2>/dev/null || true
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
    [ "$created_policy" -eq 1 ] && rm -f "$policy"
    # Belt and braces: if the package's service started anyway, stop that service (only it:
    # other chronyd processes on a shared machine are not ours to kill).
    if [ -z "${PENDULUM_KEEP_SYSTEM_CHRONYD:-}" ]; then
        service chrony stop >/dev/null 2>&1 || true
    fi
fi
# NTPsec conflicts with chrony as a package: unpack it beside the repo instead of installing it.
# Tests run its ntpd with CAP_SYS_TIME removed from the bounding set (setpriv) and `disable ntp`.
ntpsec_root=.peers/ntpsec
if [ ! -x "$ntpsec_root/usr/sbin/ntpd" ]; then
    downloads=$(mktemp -d)
    chmod 755 "$downloads"  # apt's download user must be able to write here
    if (cd "$downloads" && apt-get download -qq ntpsec ntpsec-ntpdig python3-ntp >/dev/null 2>&1); then
        mkdir -p "$ntpsec_root"
        for package in "$downloads"/*.deb; do dpkg -x "$package" "$ntpsec_root"; done
    else
        echo "warning: could not download ntpsec; NTPsec interop tests will fail" >&2
    fi
    rm -rf "$downloads"
fi

echo "test dependencies: $(chronyd --version | head -1 | cut -d' ' -f1-4); $(tshark --version 2>/dev/null | head -1); $(ptp4l -v 2>&1 | head -1 | sed 's/^/ptp4l /'); ntpsec $("$ntpsec_root/usr/sbin/ntpd" --version 2>/dev/null | head -1)"
