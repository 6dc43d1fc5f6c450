#!/bin/sh
# The README's main job, end to end on a fresh Debian 12 machine (as root):
# set up, fetch a real package, inspect it and unpack it raw and as a layer.
set -eu
cd "$(dirname "$0")/.."
sh test/setup.sh
work=$(mktemp -d /tmp/deblayer-demo-XXXXXX)
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get download -qq -o APT::Sandbox::User=root at 2>/dev/null || { apt-get update -qq && apt-get download -qq -o APT::Sandbox::User=root at; })
deb=$(ls "$work"/at_*.deb)
deblayer() { node dist/cli/main.js "$@"; }

echo "== deblayer deb info $(basename "$deb")"
deblayer deb info "$deb"
echo
echo "== deblayer deb contents (first lines)"
deblayer deb contents "$deb" | head -8
echo
echo "== deblayer deb extract: the raw tree, as dpkg-deb -x makes it"
deblayer deb extract "$deb" "$work/raw"
echo
echo "== deblayer deb extract --layer: the tree an OSTree commit can carry"
deblayer -v deb extract --layer "$deb" "$work/layer" 2>&1 | grep -v '^\./'
echo
echo "== the layer: only /usr; /etc moved to /usr/etc; /var recreated by tmpfiles.d"
(cd "$work/layer" && find . -maxdepth 3 | sort | head -20)
echo
cat "$work"/layer/usr/lib/tmpfiles.d/deblayer-at.conf
