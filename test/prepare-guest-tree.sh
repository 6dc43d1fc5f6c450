#!/bin/sh
# Extracts a bootable base tarball (test/make-boot-base.sh) into DIR and adds
# the boot tests' probe (fixtures/guest). With --with-deblayer, also deblayer
# as its Debian package will install it: the built program, its python
# programs and its production npm dependencies in /usr/lib/deblayer,
# /usr/bin/deblayer a link (the native modules are built here against Node 20;
# trixie's nodejs is 20 too).
# Used by test/helpers/guest.ts and test/demo-boot.sh.
set -eu
tarball=$1
dir=$2
with_deblayer=${3:-}
project=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$dir"
tar --numeric-owner -xpf "$tarball" -C "$dir"
install -m 0644 "$project/fixtures/guest/deblayer-probe.service" "$dir/usr/lib/systemd/system/deblayer-probe.service"
install -D -m 0755 "$project/fixtures/guest/deblayer-probe" "$dir/usr/libexec/deblayer-probe"
mkdir -p "$dir/etc/systemd/system/multi-user.target.wants"
ln -sf /usr/lib/systemd/system/deblayer-probe.service "$dir/etc/systemd/system/multi-user.target.wants/deblayer-probe.service"
if [ "$with_deblayer" = --with-deblayer ]; then
  dest="$dir/usr/lib/deblayer"
  mkdir -p "$dest/node_modules"
  # python/ beside dist/: src/exec/python.ts finds it two levels up from dist/bundle.
  mkdir -p "$dest/dist"
  cp -a "$project/dist/bundle" "$dest/dist/"
  cp -a "$project/python" "$project/package.json" "$dest/"
  find "$dest/python" -name __pycache__ -prune -exec rm -rf {} +
  # Each production dependency, without the dependencies nested inside it (listed on their own).
  (cd "$project" && npm ls --omit=dev --all --parseable) | tail -n +2 | while read -r path; do
    rel=${path#"$project"/}
    mkdir -p "$dest/$rel"
    tar -C "$path" --exclude=./node_modules -cf - . | tar -C "$dest/$rel" -xf -
  done
  chmod 0755 "$dest/dist/bundle/main.js"
  ln -sf ../lib/deblayer/dist/bundle/main.js "$dir/usr/bin/deblayer"
fi
