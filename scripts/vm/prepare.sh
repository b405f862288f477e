#!/usr/bin/env bash
# Fetches what the kernel-clock VM needs and builds its boot files, once, into .vm/ (or
# $PENDULUM_VM_CACHE): Debian's kernel and busybox-static are downloaded and unpacked with
# dpkg -x, never installed on this machine. qemu comes from apt-get like every other test peer.
#   scripts/vm/prepare.sh        prints the folder holding vmlinuz and initrd.gz
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
cache="${PENDULUM_VM_CACHE:-$repo/.vm}"
fail() { echo "prepare.sh: $*" >&2; exit 1; }

need_packages=()
command -v qemu-system-x86_64 >/dev/null || need_packages+=(qemu-system-x86)
command -v depmod >/dev/null || need_packages+=(kmod)
command -v cpio >/dev/null || need_packages+=(cpio)
if ((${#need_packages[@]})); then
    [[ $(id -u) == 0 ]] || fail "needs ${need_packages[*]}: apt-get install -y ${need_packages[*]} (as root)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need_packages[@]}" >&2 \
        || fail "apt-get install ${need_packages[*]} failed"
fi

mkdir -p "$cache"
if [[ ! -s $cache/boot/vmlinuz || ! -s $cache/boot/initrd.gz || $repo/scripts/vm/init -nt $cache/boot/initrd.gz ]]; then
    work="$cache/unpack"
    rm -rf "$work" "$cache/boot"
    mkdir -p "$work/debs" "$work/kernel" "$work/busybox" "$cache/boot"
    # linux-image-amd64 is a metapackage: its dependency names the kernel this mirror has.
    kernel_package=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
    [[ -n $kernel_package ]] || fail "cannot tell which kernel linux-image-amd64 stands for (apt-get update?)"
    (cd "$work/debs" && apt-get download -q "$kernel_package" busybox-static >&2) \
        || fail "apt-get download $kernel_package busybox-static failed"
    dpkg -x "$work/debs/${kernel_package}"_*.deb "$work/kernel"
    dpkg -x "$work/debs"/busybox-static_*.deb "$work/busybox"
    version=${kernel_package#linux-image-}
    depmod -b "$work/kernel" "$version"

    initramfs="$work/initramfs"
    mkdir -p "$initramfs"/{bin,dev,proc,sys,host,lib/modules}
    cp "$work/busybox/bin/busybox" "$initramfs/bin/busybox"
    for applet in sh mount umount mkdir insmod poweroff sleep cat ip chroot echo switch_root; do
        ln -s busybox "$initramfs/bin/$applet"
    done
    # Debian builds 9p and virtio as modules; they are loaded in this order by init.
    modules=(netfs fscache 9pnet virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev
             virtio_pci 9pnet_virtio 9p failover net_failover virtio_net)
    for module in "${modules[@]}"; do
        path=$(find "$work/kernel/lib/modules/$version" -name "$module.ko*" | head -1)
        [[ -n $path ]] || { [[ $module == fscache || $module == netfs ]] && continue; fail "module $module not in $kernel_package"; }
        cp "$path" "$initramfs/lib/modules/"
        echo "$(basename "$path")" >>"$initramfs/lib/modules/order"
    done
    cp "$repo/scripts/vm/init" "$initramfs/init"
    chmod 755 "$initramfs/init"
    (cd "$initramfs" && find . | cpio -o -H newc --quiet | gzip -1) >"$cache/boot/initrd.gz"
    cp "$work/kernel/boot/vmlinuz-$version" "$cache/boot/vmlinuz"
    echo "$version" >"$cache/boot/kernel-version"
    rm -rf "$work"
fi
echo "$cache/boot"
