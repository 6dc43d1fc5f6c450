#!/bin/sh
# A real Debian base for the tests: debootstrap of a minbase SUITE (bookworm
# unless named: `make-real-base.sh trixie`) with systemd-sysv, from the Debian
# archive, kept as a tarball between local runs (CI starts without it and
# builds it fresh, which takes a few minutes). Prints the tarball's path.
# Override the cache with DEBLAYER_BASE_CACHE.
set -eu
suite=${1:-bookworm}
cache=${DEBLAYER_BASE_CACHE:-/var/cache/deblayer-tests/bases}
mirror=${DEBLAYER_MIRROR:-http://deb.debian.org/debian}
out="$cache/$suite-minbase-sysv.tar"
if [ -s "$out" ]; then
  echo "$out"
  exit 0
fi
mkdir -p "$cache"
work=$(mktemp -d "$cache/.debootstrap.XXXXXX")
trap 'rm -rf "$work"' EXIT
echo "make-real-base: debootstrap $suite minbase (+systemd-sysv) from $mirror" >&2
debootstrap --variant=minbase --include=systemd-sysv "$suite" "$work/root" "$mirror" >"$work/log" 2>&1 || {
  tail -n 20 "$work/log" >&2
  exit 1
}
# The archive's packages are in the tree's apt cache: not part of a base.
rm -f "$work/root"/var/cache/apt/archives/*.deb
tar --numeric-owner --xattrs --xattrs-include='*' -C "$work/root" -cf "$work/base.tar" .
mv "$work/base.tar" "$out"
echo "$out"
