# Sourced by scripts/vm/run.sh for the installed-package scenario (scripts/check-packages.sh
# runs it): the guest boots a Debian 12 root with systemd as init, in which dpkg has installed
# the .deb named by PENDULUM_DEB, so pendulum-ntpd.service starts as the package set it up. What
# is added to that root is what an operator would do, plus the test's own pieces:
#  - /etc/pendulum/ntpd.toml edited to name the reference server, chronyd -x here at
#    10.0.2.2:11123 (polled every 1 to 4 s), instead of the public NTS servers;
#  - /etc/pendulum/ptpd.toml, so that pendulum-ptpd.service can be started too;
#  - a user "observer" in the group pendulum, who reads `pendulum status`;
#  - pendulum-vm-skew.service, which sets the guest's clock 2 s ahead before pendulum-ntpd starts,
#    and pendulum-installed-check.service, which runs scripts/vm/guest/installed-package.sh
#    once pendulum-ntpd has started and powers the guest off.
[[ -f ${PENDULUM_DEB:-} ]] || fail "installed-package needs PENDULUM_DEB=path/to/pendulum_VERSION_amd64.deb"
debian_base=$("$repo/scripts/vm/debian-root.sh") || fail "no Debian 12 root"
guest_root="$results/guest-root"
remove_guest_root=1
mkdir -p "$guest_root"
cp -a "$debian_base/." "$guest_root/"
printf '#!/bin/sh\nexit 101\n' >"$guest_root/usr/sbin/policy-rc.d"
chmod 755 "$guest_root/usr/sbin/policy-rc.d"
cp "$PENDULUM_DEB" "$guest_root/tmp/pendulum.deb"
chroot "$guest_root" dpkg -i /tmp/pendulum.deb >"$results/dpkg.log" 2>&1 || fail "dpkg -i in the guest root failed ($results/dpkg.log)"
rm -f "$guest_root/tmp/pendulum.deb" "$guest_root/usr/sbin/policy-rc.d"

python3 - "$guest_root/etc/pendulum/ntpd.toml" <<'PY'
import re, sys
path = sys.argv[1]
text = open(path).read()
# Every [[source]] of the packaged file replaced by the host's reference; the rest kept.
kept = re.sub(r'\[\[source\]\]\nmode = "nts"\naddress = "[^"]*"\n\n?', '', text)
source = '[[source]]\nmode = "server"\naddress = "10.0.2.2:11123"\nminpoll = 0\nmaxpoll = 2\n\n'
marker = '[clock]'
assert marker in kept and '[[source]]' not in kept, "the packaged ntpd.toml changed shape"
open(path, 'w').write(kept.replace(marker, source + marker, 1))
PY
cp "$guest_root/etc/pendulum/ntpd.toml" "$results/ntpd.toml"

echo pendulum-guest >"$guest_root/etc/hostname"
# pendulum-ptpd, which the package leaves disabled, with a configuration as the documentation
# describes: master-only on the guest's interface, an overlay clock (pendulum-ntpd has the
# system clock).
cat >"$guest_root/etc/pendulum/ptpd.toml" <<'CONF'
domain = 0
master-only = true

[clock]
kind = "overlay"

[[port]]
interface = "eth0"
network = "ipv4"
delay-mechanism = "e2e"
timestamping = "software"

[observability]
observation-path = "/run/pendulum/ptp-observe"
CONF
chroot "$guest_root" useradd --create-home --groups pendulum observer || fail "cannot add the user observer to the guest root"
mkdir -p "$guest_root/usr/local/lib/pendulum-vm"
cp "$repo/scripts/vm/guest/installed-package.sh" "$guest_root/usr/local/lib/pendulum-vm/"
cat >"$guest_root/etc/systemd/system/pendulum-vm-skew.service" <<'UNIT'
[Unit]
Description=Pendulum VM test: the clock 2 s ahead before pendulum-ntpd starts
ConditionKernelCommandLine=pendulum.vm-guest
DefaultDependencies=no
After=sysinit.target
Before=pendulum-ntpd.service

[Service]
Type=oneshot
ExecStart=/bin/sh -c 'date --set="@$(( $(date +%%s) + 2 ))"'

[Install]
WantedBy=multi-user.target
UNIT
cat >"$guest_root/etc/systemd/system/pendulum-installed-check.service" <<'UNIT'
[Unit]
Description=Pendulum VM test: the installed package, checked from inside
ConditionKernelCommandLine=pendulum.vm-guest
After=pendulum-ntpd.service network-online.target

[Service]
Type=oneshot
ExecStart=/bin/bash /usr/local/lib/pendulum-vm/installed-package.sh
StandardOutput=journal+console
StandardError=journal+console

[Install]
WantedBy=multi-user.target
UNIT
# Timers that would reach for the network, and a console login nobody uses.
chroot "$guest_root" systemctl mask apt-daily.timer apt-daily-upgrade.timer getty@tty1.service serial-getty@ttyS0.service >/dev/null 2>&1
chroot "$guest_root" systemctl enable pendulum-vm-skew.service pendulum-installed-check.service >/dev/null 2>&1 \
    || fail "cannot enable the guest's test units"
