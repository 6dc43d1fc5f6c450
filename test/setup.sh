#!/bin/sh
# Everything deblayer and its tests need on a fresh Debian 12 machine, as root:
# the Debian tools the tests compare against or call, the npm packages, a build.
# Safe to run again: it installs only what is missing.
set -eu
cd "$(dirname "$0")/.."

# dpkg: dpkg-deb and dpkg (the reference); binutils: ar; xz-utils, zstd, gzip,
# tar: building fixtures in every compression; mandoc, groff-base, man-db: the
# man page test; time: peak memory in the streaming test; apt: real packages;
# g++, make, python3: node-gyp builds better-sqlite3 and zstd-napi from source.
# ostree: deblayer's repositories and sysroots; debootstrap: the real base;
# apt-utils (apt-ftparchive), gpg, gpg-agent: the signed test repository;
# util-linux: unshare, mount for the tmpfs sysroots; gir1.2-ostree-1.0,
# python3-gi: libostree (commits, deployments, rollback's reordering);
# python3-apt: libapt for resolution; bubblewrap: the sandbox where maintainer
# scripts run. deblayer image: e2fsprogs (mkfs.ext4 -d), dosfstools and mtools
# (the ESP without a mount), fdisk (sfdisk), grub-efi-amd64-bin
# (grub-mkstandalone). Boot tests: mmdebstrap (bootable bases), qemu-system-x86
# and ovmf (firmware boot), curl (the guest's web page). python3-pyflakes:
# the lint of python/ (test/unit/python.test.ts); attr (setfattr): the overlay
# markers of the libostree unit tests. npm run deb (test/deb-package.test.ts):
# dpkg-dev (dpkg-shlibdeps: the native modules' library dependencies),
# binutils (strip), lintian (the package's check). deblayer sysext: erofs-utils
# (mkfs.erofs, fsck.erofs --extract) and squashfs-tools (mksquashfs, unsquashfs).
PACKAGES="dpkg binutils xz-utils zstd gzip tar coreutils mandoc groff-base man-db time apt ca-certificates g++ make python3 ostree debootstrap apt-utils gpg gpg-agent util-linux gir1.2-ostree-1.0 python3-gi python3-apt bubblewrap e2fsprogs dosfstools mtools fdisk grub-efi-amd64-bin mmdebstrap qemu-system-x86 ovmf curl python3-pyflakes attr dpkg-dev lintian erofs-utils squashfs-tools"

missing=""
for p in $PACKAGES; do
  if [ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)" != "installed" ]; then
    missing="$missing $p"
  fi
done
if [ -n "$missing" ]; then
  echo "setup: installing Debian packages:$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing
fi

# npm ci when node_modules is missing or older than the lock file.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund
fi

npx tsc -p .
node packaging/bundle.mjs dist
chmod +x dist/bundle/main.js
