#!/bin/sh
# A Debian base that boots under OSTree, for the boot tests and `npm run
# demo:boot`: mmdebstrap minbase of SUITE (bookworm unless named) with a real
# kernel (linux-image-amd64) and dracut, whose generic initramfs carries
# ostree-boot's module (98ostree: ostree-prepare-root), plus systemd-networkd
# on DHCP so that a qemu guest on user networking is reachable. With `guest`
# as second argument it also holds what deblayer needs to run inside the
# booted machine (nodejs, libostree through python3-gi, python3-apt,
# bubblewrap). Kept as a tarball between runs, like make-real-base.sh; prints
# its path. Override the cache with DEBLAYER_BASE_CACHE.
set -eu
suite=${1:-bookworm}
flavour=${2:-}
cache=${DEBLAYER_BASE_CACHE:-/var/cache/deblayer-tests/bases}
mirror=${DEBLAYER_MIRROR:-http://deb.debian.org/debian}
name="$suite-boot${flavour:+-$flavour}"
out="$cache/$name.tar"
if [ -s "$out" ]; then
  echo "$out"
  exit 0
fi
mkdir -p "$cache"
work=$(mktemp -d "$cache/.mmdebstrap.XXXXXX")
trap 'rm -rf "$work"' EXIT
packages="systemd-sysv,udev,kmod,linux-image-amd64,dracut,ostree-boot,ostree,ca-certificates"
if [ "$flavour" = guest ]; then
  # deblayer's own dependencies (what debian/control will name): node, the
  # libostree and libapt bindings its workers use, the script sandbox, and the
  # compressors of .deb members.
  packages="$packages,nodejs,python3,python3-gi,gir1.2-ostree-1.0,python3-apt,bubblewrap,xz-utils,zstd,curl"
fi
echo "make-boot-base: mmdebstrap $suite minbase with a kernel and dracut ($packages) from $mirror" >&2
# mmdebstrap mounts /proc, /sys and /dev inside the tree while it works: in a
# private mount namespace, so that nothing is left mounted on the host if it dies.
unshare --mount --propagation private \
  mmdebstrap --variant=minbase --include="$packages" \
  --customize-hook='printf "[Match]\nName=en* eth*\n\n[Network]\nDHCP=yes\n" > "$1/etc/systemd/network/80-dhcp.network"' \
  --customize-hook='chroot "$1" systemctl enable systemd-networkd.service' \
  --customize-hook='rm -f "$1/etc/resolv.conf"; printf "nameserver 10.0.2.3\n" > "$1/etc/resolv.conf"' \
  --customize-hook='echo deblayer-guest > "$1/etc/hostname"' \
  --customize-hook='rm -f "$1"/var/cache/apt/archives/*.deb' \
  "$suite" "$work/base.tar" "$mirror" >"$work/log" 2>&1 || {
  tail -n 30 "$work/log" >&2
  exit 1
}
mv "$work/base.tar" "$out"
echo "$out"
