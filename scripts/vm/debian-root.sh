#!/usr/bin/env bash
# Makes, once, a minimal Debian 12 root with systemd (debootstrap from Debian's mirror) into
# .vm/debian-bookworm (or $PENDULUM_VM_CACHE), and prints its path. The package checks copy it:
# into a chroot for dpkg's install, upgrade and purge, and as the root a VM guest boots with
# systemd as init (scripts/vm/host/installed-package.sh). Never used in place.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
cache="${PENDULUM_VM_CACHE:-$repo/.vm}"
base="$cache/debian-bookworm"
fail() { echo "debian-root.sh: $*" >&2; exit 1; }
[[ $(id -u) == 0 ]] || fail "needs root (debootstrap)"
command -v debootstrap >/dev/null || fail "needs debootstrap: scripts/install-test-dependencies.sh installs it"
# The marker names what was asked for, so a changed list makes the root again.
packages=adduser,init-system-helpers,systemd,systemd-sysv,dbus,tzdata,procps
if [[ ! -e $base/.complete || $(cat "$base/.complete") != "$packages" ]]; then
    rm -rf "$base"
    mkdir -p "$cache"
    debootstrap --variant=minbase --include="$packages" bookworm "$base" http://deb.debian.org/debian \
        >"$cache/debootstrap.log" 2>&1 \
        || { tail -20 "$cache/debootstrap.log" >&2; fail "debootstrap of Debian 12 failed (log: $cache/debootstrap.log)"; }
    echo "$packages" >"$base/.complete"
fi
echo "$base"
