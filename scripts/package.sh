#!/usr/bin/env bash
# Builds the installable packages into dist/packages/: pendulum_VERSION_amd64.deb (dpkg-deb) and
# pendulum-VERSION-1.x86_64.rpm (rpmbuild, Debian's `rpm` package), both from one staged tree:
# the three release binaries (Swift runtime linked in, stripped), the systemd units, the
# configuration /etc/pendulum/ntpd.toml (a conffile / %config(noreplace)), man pages, shell
# completions, a tmpfiles entry for /run/pendulum, the examples, and the scripts that make the
# user and group "pendulum" and the state directory /var/lib/pendulum.
#
# Not debhelper: the package is built from binaries SwiftPM has already made, not from a Debian
# source package, so the few things debhelper would do (stripping, md5sums, compressed man
# pages, shlibs) are done here in plain sight.
#
#   scripts/package.sh                  release build (scripts/build-release.sh), then both packages
#   scripts/package.sh --bin-dir DIR    package binaries already built in DIR
#   PACKAGE_VERSION=0.1.0+local1 scripts/package.sh   another version (an upgrade test's)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
fail() { echo "package.sh: $*" >&2; exit 1; }

bin_dir=
while (($#)); do
    case "$1" in
        --bin-dir) bin_dir="${2:?--bin-dir needs a folder}"; shift 2 ;;
        *) fail "unknown argument $1 (usage: scripts/package.sh [--bin-dir DIR])" ;;
    esac
done
for tool in dpkg-deb dpkg-shlibdeps rpmbuild strip gzip; do
    command -v "$tool" >/dev/null || fail "needs $tool: apt-get install -y dpkg-dev rpm binutils (as root)"
done
if [[ -z $bin_dir ]]; then
    bin_dir=$(scripts/build-release.sh | sed -n 's/^release binaries: //p')
fi
programs=(pendulum pendulum-ntpd pendulum-ptpd)
for program in "${programs[@]}"; do
    [[ -x $bin_dir/$program ]] || fail "no $program in $bin_dir"
done

version=${PACKAGE_VERSION:-$("$bin_dir/pendulum-ntpd" --version | awk '{print $NF}')}
[[ $version =~ ^[0-9][0-9A-Za-z.+~]*$ ]] || fail "version \"$version\" is not a Debian and RPM version"
# One date for the changelog and every file, from the commit: the same tree packs the same way.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
maintainer="Pendulum for Swift developers <pendulum-packages@users.noreply.github.com>"

out="$repo/dist/packages"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"

# --- the tree both packages install: $1 is its root, $2 the systemd unit folder ---------------
stage_tree() {
    local root=$1 unit_dir=$2
    install -d "$root/usr/bin" "$root/usr/sbin" "$root$unit_dir" "$root/usr/lib/tmpfiles.d" \
        "$root/etc/pendulum" "$root/usr/share/doc/pendulum/examples" \
        "$root/usr/share/man/man1" "$root/usr/share/man/man5" "$root/usr/share/man/man8" \
        "$root/usr/share/bash-completion/completions" "$root/usr/share/zsh/vendor-completions" \
        "$root/usr/share/fish/vendor_completions.d"
    install -m 0755 "$bin_dir/pendulum" "$root/usr/bin/pendulum"
    install -m 0755 "$bin_dir/pendulum-ntpd" "$root/usr/sbin/pendulum-ntpd"
    install -m 0755 "$bin_dir/pendulum-ptpd" "$root/usr/sbin/pendulum-ptpd"
    # The symbol table only serves a debugger; Swift's reflection metadata is in allocated
    # sections, which strip keeps.
    strip --remove-section=.comment --remove-section=.note \
        "$root/usr/bin/pendulum" "$root/usr/sbin/pendulum-ntpd" "$root/usr/sbin/pendulum-ptpd"
    install -m 0644 dist/systemd/pendulum-ntpd.service dist/systemd/pendulum-ptpd.service "$root$unit_dir/"
    install -m 0644 dist/pendulum.tmpfiles "$root/usr/lib/tmpfiles.d/pendulum.conf"
    install -m 0644 dist/etc/ntpd.toml "$root/etc/pendulum/ntpd.toml"
    install -m 0644 docs/examples/*.toml dist/etc/ptpd.toml "$root/usr/share/doc/pendulum/examples/"
    install -m 0644 dist/debian/copyright "$root/usr/share/doc/pendulum/copyright"
    local page section
    for page in docs/man/*.[0-9]; do
        section=${page##*.}
        gzip -9n <"$page" >"$root/usr/share/man/man$section/$(basename "$page").gz"
        chmod 0644 "$root/usr/share/man/man$section/$(basename "$page").gz"
    done
    # bash-completion sources the file: a "#!" line would only mislead.
    "$bin_dir/pendulum" --generate-completion-script bash | sed '1{/^#!/d}' >"$root/usr/share/bash-completion/completions/pendulum"
    "$bin_dir/pendulum" --generate-completion-script zsh >"$root/usr/share/zsh/vendor-completions/_pendulum"
    "$bin_dir/pendulum" --generate-completion-script fish >"$root/usr/share/fish/vendor_completions.d/pendulum.fish"
    chmod 0644 "$root"/usr/share/*/*completion*/* "$root"/usr/share/zsh/vendor-completions/_pendulum
    write_changelog | gzip -9n >"$root/usr/share/doc/pendulum/changelog.gz"
    chmod 0644 "$root/usr/share/doc/pendulum/changelog.gz"
    find "$root" -exec touch --no-dereference --date="@$SOURCE_DATE_EPOCH" {} +
}

write_changelog() {
    printf 'pendulum (%s) unstable; urgency=medium\n\n' "$version"
    printf '  * Built from the Pendulum for Swift repository, commit %s.\n\n' \
        "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
    printf ' -- %s  %s\n' "$maintainer" "$(date -u -R --date="@$SOURCE_DATE_EPOCH")"
}

# --- .deb --------------------------------------------------------------------------------------
deb_root="$work/deb"
stage_tree "$deb_root" /lib/systemd/system
install -d -m 0755 "$deb_root/DEBIAN"
shlibs_dir="$work/shlibs"
mkdir -p "$shlibs_dir/debian"
printf 'Source: pendulum\n\nPackage: pendulum\nArchitecture: any\n' >"$shlibs_dir/debian/control"
shlibs=$(cd "$shlibs_dir" && dpkg-shlibdeps -O "$deb_root/usr/bin/pendulum" \
    "$deb_root/usr/sbin/pendulum-ntpd" "$deb_root/usr/sbin/pendulum-ptpd" 2>/dev/null \
    | sed -n 's/^shlibs:Depends=//p')
[[ -n $shlibs ]] || fail "dpkg-shlibdeps found no library dependencies"
installed_size=$(du -sk --exclude=DEBIAN "$deb_root" | cut -f1)
cat >"$deb_root/DEBIAN/control" <<EOF
Package: pendulum
Version: $version
Architecture: amd64
Maintainer: $maintainer
Installed-Size: $installed_size
Depends: $shlibs, adduser, procps, tzdata
Provides: time-daemon
Conflicts: time-daemon
Replaces: time-daemon
Section: net
Priority: optional
Homepage: https://github.com/pendulum-project
Description: NTP with Network Time Security, and PTP, written in Swift
 pendulum-ntpd keeps the system clock on time from NTP servers, authenticated
 with Network Time Security (RFC 8915) by default, and serves NTP and NTS to
 others. pendulum-ptpd is a PTP (IEEE 1588-2019) ordinary or boundary clock.
 pendulum queries servers, shows the daemons' status and validates
 configuration files.
 .
 The package enables and starts pendulum-ntpd, configured in
 /etc/pendulum/ntpd.toml as a client of four public NTS servers. As with every
 time daemon, only one may run: the package replaces systemd-timesyncd, chrony
 and ntpsec.
EOF
echo /etc/pendulum/ntpd.toml >"$deb_root/DEBIAN/conffiles"
install -m 0755 dist/debian/postinst dist/debian/prerm dist/debian/postrm "$deb_root/DEBIAN/"
(cd "$deb_root" && find . -path ./DEBIAN -prune -o -path ./etc -prune -o -type f -printf '%P\0' \
    | LC_ALL=C sort -z | xargs -0 md5sum) >"$deb_root/DEBIAN/md5sums"
chmod 0644 "$deb_root/DEBIAN/control" "$deb_root/DEBIAN/conffiles" "$deb_root/DEBIAN/md5sums"
deb="$out/pendulum_${version}_amd64.deb"
dpkg-deb --root-owner-group -Zxz --build "$deb_root" "$deb" >/dev/null

# --- .rpm --------------------------------------------------------------------------------------
rpm_root="$work/rpm-root"
stage_tree "$rpm_root" /usr/lib/systemd/system
# Fedora's places: zsh functions in site-functions; the state directory belongs to the package.
install -d "$rpm_root/usr/share/zsh/site-functions" "$rpm_root/var/lib/pendulum"
mv "$rpm_root/usr/share/zsh/vendor-completions/_pendulum" "$rpm_root/usr/share/zsh/site-functions/"
rmdir "$rpm_root/usr/share/zsh/vendor-completions"
rpm_version=${version//-/_}
sed -e "s|@VERSION@|$rpm_version|" -e "s|@PACKAGER@|$maintainer|" dist/rpm/pendulum.spec.in >"$work/pendulum.spec"
rpmbuild -bb --quiet "$work/pendulum.spec" \
    --define "_topdir $work/rpmbuild" --define "_rpmdir $out" \
    --define "_build_name_fmt %%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm" \
    --define "staged_root $rpm_root" --define "_source_date_epoch_from_changelog 0" \
    --define "_binary_payload w6.xzdio" \
    --define "use_source_date_epoch_as_buildtime 1" --define "clamp_mtime_to_source_date_epoch 1" \
    >"$work/rpmbuild.log" 2>&1 || { cat "$work/rpmbuild.log" >&2; fail "rpmbuild failed"; }
rpm="$out/pendulum-$rpm_version-1.x86_64.rpm"
[[ -s $rpm ]] || fail "rpmbuild made no $rpm"

echo "$deb"
echo "$rpm"
