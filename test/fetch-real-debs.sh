#!/bin/sh
# Downloads the real Debian packages listed in fixtures/real-packages.txt into a
# cache that test runs and benchmarks reuse (apt-get download, so apt checks
# them against the archive's signed indexes). Prints one .deb path per line.
set -eu
cd "$(dirname "$0")/.."
CACHE="${DEBLAYER_DEB_CACHE:-/var/cache/deblayer-tests/debs}"
mkdir -p "$CACHE"
names=$(grep -v '^\s*#' fixtures/real-packages.txt | awk 'NF { print $1 }')

have() { ls "$CACHE/$1"_*.deb >/dev/null 2>&1; }

missing=""
for n in $names; do have "$n" || missing="$missing $n"; done
if [ -n "$missing" ]; then
  echo "fetch-real-debs: downloading$missing into $CACHE" >&2
  # shellcheck disable=SC2086
  if ! (cd "$CACHE" && apt-get download -qq -o APT::Sandbox::User=root $missing >&2); then
    apt-get update -qq >&2
    # shellcheck disable=SC2086
    (cd "$CACHE" && apt-get download -qq -o APT::Sandbox::User=root $missing >&2)
  fi
fi
for n in $names; do
  # The newest cached version of each package.
  ls "$CACHE/$n"_*.deb | sort -V | tail -1
done
