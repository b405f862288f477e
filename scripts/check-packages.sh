#!/usr/bin/env bash
# Proves the packages scripts/package.sh builds, as the test suite's last step:
#  - lintian finds no error in the .deb (its warnings are printed);
#  - the .deb installs into a Debian 12 root made by debootstrap (a chroot: nothing is started
#    there, since a chroot shares this machine's clock), makes the user, group and state
#    directory, enables pendulum-ntpd and not pendulum-ptpd, and its programs run there;
#  - an upgrade keeps an edited configuration, the drift file, the keys and a `disable`;
#  - remove keeps configuration and state, purge deletes them;
#  - the .rpm holds the same files, the configuration as %config(noreplace), and the scripts
#    that make the user.
# Needs root (debootstrap, chroot); every failure ends the run with a line saying what failed.
#   scripts/check-packages.sh [--bin-dir DIR]    (DIR: release binaries already built)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
fail() { echo "check-packages: FAILED: $*" >&2; exit 1; }
passed() { echo "check-packages: ok: $*"; }
[[ $(id -u) == 0 ]] || fail "needs root (debootstrap and chroot)"
for tool in lintian debootstrap rpm; do
    command -v "$tool" >/dev/null || fail "needs $tool: scripts/install-test-dependencies.sh installs it"
done

mapfile -t built < <(scripts/package.sh "$@")
deb=${built[0]}
rpm=${built[1]}
version=$(dpkg-deb -f "$deb" Version)
bin_args=("$@")
echo "check-packages: $(basename "$deb") ($(du -h "$deb" | cut -f1)), $(basename "$rpm") ($(du -h "$rpm" | cut -f1))"

# --- lintian ---------------------------------------------------------------------------------
lintian_output=$(lintian --fail-on none --display-info "$deb" 2>&1 | grep -v '^running with root privileges') \
    || fail "lintian could not run: $lintian_output"
# Errors and warnings in full; the informational tags (mostly "spelling errors" in the strings
# of statically linked libraries) only counted.
grep -E '^[EW]: ' <<<"$lintian_output" | sed 's/^/  lintian: /' || true
if grep -q '^E: ' <<<"$lintian_output"; then fail "lintian reports errors (above)"; fi
passed "lintian: no errors, $(grep -c '^W: ' <<<"$lintian_output" || true) warnings, $(grep -c '^I: ' <<<"$lintian_output" || true) informational tags"

# --- a Debian 12 root, made once, copied for each run -----------------------------------------
base=$(scripts/vm/debian-root.sh) || fail "no Debian 12 root"
cache=$(dirname "$base")
root=$(mktemp -d "$cache/package-check.XXXXXX")
trap 'umount "$root/proc" 2>/dev/null; rm -rf --one-file-system "$root"' EXIT
cp -a "$base/." "$root/"
# As on an installed system (systemd-tmpfiles refuses to work without it).
mount -t proc proc "$root/proc"
# Package scripts in the chroot may ask to start services: refuse, whatever they ask.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"
[[ ! -e $root/run/systemd/system ]] || fail "the chroot looks like a running systemd"
in_root() { chroot "$root" "$@"; }
install_deb() {
    cp "$1" "$root/tmp/package.deb"
    in_root dpkg -i /tmp/package.deb >"$root/tmp/dpkg.log" 2>&1 || { cat "$root/tmp/dpkg.log" >&2; fail "dpkg -i $(basename "$1")"; }
    rm -f "$root/tmp/package.deb"
}
expect_file() { [[ -e $root$1 ]] || fail "$2: $1 is missing"; }
expect_no_file() { [[ ! -e $root$1 && ! -L $root$1 ]] || fail "$2: $1 is still there"; }
wants=/etc/systemd/system/multi-user.target.wants

# --- install ---------------------------------------------------------------------------------
install_deb "$deb"
[[ $(in_root dpkg-query -W -f '${Status} ${Version}' pendulum) == "install ok installed $version" ]] \
    || fail "install: dpkg does not list pendulum $version as installed"
IFS=: read -r _ _ uid gid _ home shell < <(in_root getent passwd pendulum) || fail "install: no user pendulum"
[[ $home == /var/lib/pendulum && $shell == /usr/sbin/nologin && $uid -lt 1000 ]] \
    || fail "install: user pendulum is uid $uid, home $home, shell $shell (want a system user, /var/lib/pendulum, nologin)"
[[ $(in_root getent group pendulum | cut -d: -f3) == "$gid" ]] || fail "install: pendulum's group is not the group pendulum"
[[ $(in_root stat -c '%U:%G %a' /var/lib/pendulum) == "pendulum:pendulum 700" ]] \
    || fail "install: /var/lib/pendulum is $(in_root stat -c '%U:%G %a' /var/lib/pendulum), want pendulum:pendulum 700"
[[ $(in_root stat -c '%U:%G %a' /run/pendulum) == "pendulum:pendulum 750" ]] \
    || fail "install: the tmpfiles entry did not make /run/pendulum pendulum:pendulum 750"
[[ -L $root$wants/pendulum-ntpd.service ]] || fail "install: pendulum-ntpd.service is not enabled"
expect_no_file "$wants/pendulum-ptpd.service" "install (pendulum-ptpd must wait for its configuration)"
for file in /usr/sbin/pendulum-ntpd /usr/sbin/pendulum-ptpd /usr/bin/pendulum /etc/pendulum/ntpd.toml \
            /lib/systemd/system/pendulum-ntpd.service /lib/systemd/system/pendulum-ptpd.service \
            /usr/lib/tmpfiles.d/pendulum.conf /usr/share/man/man8/pendulum-ntpd.8.gz \
            /usr/share/man/man8/pendulum-ptpd.8.gz /usr/share/man/man5/pendulum-ntpd.toml.5.gz \
            /usr/share/man/man1/pendulum.1.gz /usr/share/bash-completion/completions/pendulum \
            /usr/share/zsh/vendor-completions/_pendulum /usr/share/fish/vendor_completions.d/pendulum.fish \
            /usr/share/doc/pendulum/copyright /usr/share/doc/pendulum/examples/ptpd.toml; do
    expect_file "$file" install
done
for program in pendulum pendulum-ntpd pendulum-ptpd; do
    line=$(in_root "$program" --version 2>&1) || fail "install: $program --version fails in Debian 12: $line"
    [[ $line == "$program (Pendulum) "* ]] || fail "install: $program --version printed: $line"
done
validation=$(in_root pendulum validate /etc/pendulum/ntpd.toml 2>&1) \
    || fail "install: the packaged configuration does not validate: $validation"
passed "install into Debian 12: user, group, state and run directories, pendulum-ntpd enabled, $version runs"

# --- upgrade ---------------------------------------------------------------------------------
echo '# edited by the administrator' >>"$root/etc/pendulum/ntpd.toml"
edited=$(sha256sum <"$root/etc/pendulum/ntpd.toml")
echo "12.345 0.678" >"$root/var/lib/pendulum/ntpd.drift"
head -c 64 /dev/urandom >"$root/var/lib/pendulum/keys.bin"
state=$(cd "$root/var/lib/pendulum" && sha256sum ntpd.drift keys.bin)
in_root systemctl disable pendulum-ntpd.service >/dev/null 2>&1 || fail "systemctl disable in the chroot"
upgrade_version="$version+upgrade1"
upgrade_deb=$(PACKAGE_VERSION=$upgrade_version scripts/package.sh "${bin_args[@]}" | head -1)
install_deb "$upgrade_deb"
rm -f "$upgrade_deb" "${upgrade_deb%/*}/pendulum-${upgrade_version}-1.x86_64.rpm"
[[ $(in_root dpkg-query -W -f '${Version}' pendulum) == "$upgrade_version" ]] || fail "upgrade: version is not $upgrade_version"
[[ $(sha256sum <"$root/etc/pendulum/ntpd.toml") == "$edited" ]] || fail "upgrade: the edited /etc/pendulum/ntpd.toml was replaced"
[[ $(cd "$root/var/lib/pendulum" && sha256sum ntpd.drift keys.bin) == "$state" ]] || fail "upgrade: the drift file or the keys changed"
expect_no_file "$wants/pendulum-ntpd.service" "upgrade (the administrator disabled pendulum-ntpd)"
passed "upgrade to $upgrade_version keeps the edited configuration, drift file, keys and the disable"

# --- remove, purge ---------------------------------------------------------------------------
in_root dpkg --remove pendulum >"$root/tmp/dpkg.log" 2>&1 || { cat "$root/tmp/dpkg.log" >&2; fail "dpkg --remove"; }
expect_no_file /usr/sbin/pendulum-ntpd remove
expect_file /etc/pendulum/ntpd.toml "remove (configuration is kept until purge)"
expect_file /var/lib/pendulum/keys.bin "remove (state is kept until purge)"
in_root dpkg --purge pendulum >"$root/tmp/dpkg.log" 2>&1 || { cat "$root/tmp/dpkg.log" >&2; fail "dpkg --purge"; }
expect_no_file /etc/pendulum purge
expect_no_file /var/lib/pendulum purge
expect_no_file /run/pendulum purge
[[ -z $(find "$root/etc/systemd" -name 'pendulum-*' 2>/dev/null) ]] || fail "purge: unit links left: $(find "$root/etc/systemd" -name 'pendulum-*')"
[[ -z $(in_root dpkg-query -W -f '${Status}' pendulum 2>/dev/null | grep -v not-installed) ]] || fail "purge: dpkg still knows pendulum"
passed "remove keeps configuration and state; purge deletes /etc/pendulum, /var/lib/pendulum, /run/pendulum"

# --- rpm ---------------------------------------------------------------------------------------
[[ $(rpm -qp --queryformat '%{VERSION}' "$rpm" 2>/dev/null) == "$version" ]] || fail "rpm: version is not $version"
rpm_files=$(rpm -qpl "$rpm" 2>/dev/null)
for file in /usr/sbin/pendulum-ntpd /usr/sbin/pendulum-ptpd /usr/bin/pendulum /etc/pendulum/ntpd.toml \
            /usr/lib/systemd/system/pendulum-ntpd.service /usr/lib/tmpfiles.d/pendulum.conf \
            /usr/share/man/man8/pendulum-ntpd.8.gz /var/lib/pendulum /usr/share/zsh/site-functions/_pendulum; do
    grep -qx "$file" <<<"$rpm_files" || fail "rpm: $file is missing"
done
grep -qx /etc/pendulum/ntpd.toml <<<"$(rpm -qp --configfiles "$rpm" 2>/dev/null)" || fail "rpm: ntpd.toml is not %config"
[[ $(rpm -qp --queryformat '[%{FILEFLAGS:fflags} %{FILENAMES}\n]' "$rpm" 2>/dev/null | grep ' /etc/pendulum/ntpd.toml$') == *n* ]] \
    || fail "rpm: ntpd.toml is not noreplace"
rpm -qp --requires "$rpm" 2>/dev/null | grep -q '^libc.so.6' || fail "rpm: no dependency on the C library was found"
rpm -qp --scripts "$rpm" 2>/dev/null | grep -q 'useradd --system' || fail "rpm: no script makes the user"
passed "rpm: files, %config(noreplace), library dependencies, user creation"

# --- installed and running: a VM booting Debian 12 with systemd --------------------------------
vm_results=$(mktemp -d /tmp/pendulum-vm-installed-package.XXXXXX)
if ! PENDULUM_DEB="$deb" PENDULUM_VM_TIME_LIMIT=${PENDULUM_VM_TIME_LIMIT:-600} \
        scripts/vm/run.sh installed-package "$vm_results" >/dev/null; then
    tail -40 "$vm_results/console.log" >&2 2>/dev/null || true
    cat "$vm_results/guest.log" >&2 2>/dev/null || true
    fail "the installed-package VM run failed (results: $vm_results)"
fi
python3 - "$vm_results" <<'PY' || fail "the installed package in the VM (results: $vm_results)"
import json, pathlib, re, sys
results = pathlib.Path(sys.argv[1])
read = lambda name: (results / name).read_text(errors="replace")
problems = []
def expect(condition, message):
    if not condition:
        problems.append(message)

user = read("process-user.txt").split()
expect(user == ["pendulum", "pendulum"], f"pendulum-ntpd runs as {user}, not pendulum:pendulum")
def fields(name):  # "Key:\tvalue" lines, as /proc/PID/status has them
    return {key: value.strip() for key, value in (line.split(":", 1) for line in read(name).splitlines())}

process = fields("process.txt")
# CAP_SYS_TIME (25) and CAP_NET_BIND_SERVICE (10), nothing else.
expect(process.get("CapEff") == "0000000002000400", f"effective capabilities {process.get('CapEff')}, want 0000000002000400")
expect(process.get("NoNewPrivs") == "1", "no_new_privs is not set")
expect(process.get("Seccomp") == "2", "no seccomp filter")

exposure = re.search(r"Overall exposure level for pendulum-ntpd\.service: ([0-9.]+) (\w+)", read("security.txt"))
expect(exposure is not None, "systemd-analyze security printed no exposure level")
if exposure:
    expect(float(exposure.group(1)) <= 2.0, f"systemd-analyze security: {exposure.group(1)} {exposure.group(2)}, want 2.0 or less")

status = json.loads(read("status-observer.json"))
expect(status["system"]["synchronized"] is True, "observer's pendulum status does not show synchronised")
refused = read("status-nobody.txt")
expect(read("status-nobody.exit").strip() != "0" and "no permission" in refused,
       f"a user outside the group pendulum was not refused clearly: {refused.strip()}")

offsets = []
for round in (1, 2, 3):
    report = json.loads(read(f"query-{round}.json"))
    server = report["servers"][0] if "servers" in report else report
    offsets.append(server["offset_seconds"])
worst = max(abs(offset) for offset in offsets)
expect(worst < 0.005, f"the guest clock is {worst * 1e3:.3f} ms from the host's chronyd, want under 5 ms")
journal = read("journal.txt")
expect("step" in journal, "the journal shows no step of the clock that started 2 s ahead")

ptp_status = json.loads(read("ptp-status-observer.json"))
ptp_states = [port["state"] for port in ptp_status["ptp"]["ports"]]
expect(ptp_states == ["MASTER"], f"pendulum-ptpd.service (master-only on eth0): port states {ptp_states}, want MASTER")
ptp_process = fields("ptp-process.txt")
# CAP_NET_BIND_SERVICE (10), CAP_NET_ADMIN (12), CAP_NET_RAW (13), CAP_SYS_TIME (25).
expect(ptp_process.get("CapEff") == "0000000002003400", f"pendulum-ptpd's capabilities {ptp_process.get('CapEff')}, want 0000000002003400")
ptp_exposure = re.search(r"Overall exposure level for pendulum-ptpd\.service: ([0-9.]+) (\w+)", read("ptp-security.txt"))
expect(ptp_exposure is not None, "systemd-analyze security printed no exposure level for pendulum-ptpd")

seccomp = read("seccomp-check.txt")
expect(read("seccomp-check.exit").strip() == "1" and "seccomp filter" in seccomp,
       f"pendulum-ntpd under SystemCallFilter=~@clock did not refuse to start clearly: {seccomp.strip()[-300:]}")

reload = read("reload.txt").split()
expect(reload[1] == reload[3] and reload[4] == "active", f"systemctl reload: {' '.join(reload)}")
drift = read("drift-file.txt").splitlines()
expect(drift and drift[0].startswith("pendulum:pendulum 644"), f"drift file after stop: {drift}")
expect(read("exit-status").strip() == "0", "the guest's check reported a failure (guest.log)")

if problems:
    for problem in problems:
        print(f"check-packages: FAILED: VM: {problem}", file=sys.stderr)
    sys.exit(1)
uptime = float(read("uptime-at-check.txt"))
print(f"check-packages: ok: VM (Debian 12, systemd): pendulum-ntpd.service as pendulum with CAP_SYS_TIME and "
      f"CAP_NET_BIND_SERVICE only, exposure {exposure.group(1)} {exposure.group(2)}, clock stepped from +2 s and "
      f"then {', '.join(f'{offset * 1e6:+.0f}' for offset in offsets)} µs from the host's chronyd, status for the "
      f"group, reload and drift file ok; pendulum-ptpd.service MASTER on eth0, exposure "
      f"{ptp_exposure.group(1)} {ptp_exposure.group(2)}; the check started {uptime:.0f} s after the guest's kernel")
PY
