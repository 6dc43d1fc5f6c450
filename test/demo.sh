#!/bin/sh
# deblayer end to end on a fresh Debian 12 machine (as root), rpm-ostree style:
# a real Debian base (debootstrap, cached), imported into an OSTree repository,
# deployed into an offline sysroot; then `deblayer install htop`, status and
# history, htop run from the new deployment, a rollback, and status again.
#
# Safety: `ostree admin deploy` freezes the filesystem it writes to, so the
# sysroot never lives on the machine's own filesystems. The sysroot part of
# this script runs again under `unshare --mount --propagation private`, on a
# tmpfs mounted in that private mount namespace only: it vanishes with it.
#
# Caches: the base tarball is kept between runs in /var/cache/deblayer-tests/bases
# (override DEBLAYER_BASE_CACHE; see test/make-real-base.sh). Everything else
# is in a temporary directory removed at the end: the repository, the sysroot
# and deblayer's --cache-dir (package lists, .deb files, per-base data). The
# cache starts empty on purpose: the lists are never stale (~9 MB to fetch),
# and the per-base data (~70 MB for each imported base commit, and every run
# imports a new one) does not pile up on the machine.
set -eu
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }
# Show a command, then run it.
run() { printf '+ %s\n' "$*"; "$@"; }
# deblayer, as it would be installed (the build in dist/), on the demo sysroot.
deblayer() {
  printf '+ deblayer --sysroot %s --cache-dir %s %s\n' "$SYSROOT" "$CACHE" "$*"
  node dist/bundle/main.js --sysroot "$SYSROOT" --cache-dir "$CACHE" "$@"
}
# A field of the default (first) deployment in `deblayer --json status`.
default_deployment() {
  node dist/bundle/main.js --sysroot "$SYSROOT" --json status |
    node -e 'let s = ""; process.stdin.on("data", (c) => { s += c; }).on("end", () => {
      const d = JSON.parse(s).deployments[0];
      if (!d) { console.error("no deployments"); process.exit(1); }
      console.log(d[process.argv[1]]);
    });' "$1"
}

# ---------------------------------------------------------------------------
# Part 2: the sysroot, inside the private mount namespace (see the bottom).
# ---------------------------------------------------------------------------
in_namespace() {
  : "${WORK:?}" "${REPO:?}" "${CACHE:?}"
  SYSROOT=$WORK/sysroot

  step "Mount a 2 GiB tmpfs for the sysroot (private mount namespace: invisible to the host)"
  run mount -t tmpfs -o size=2g tmpfs "$SYSROOT"

  step "Create an offline OSTree sysroot with a stateroot 'debian'"
  run ostree admin init-fs "$SYSROOT"
  run ostree admin os-init debian --sysroot="$SYSROOT"

  step "Pull the base commit into the sysroot's repository"
  run ostree --repo="$SYSROOT/ostree/repo" pull-local "$REPO" debian/12

  step "Deploy the base"
  run ostree admin deploy --sysroot="$SYSROOT" --os=debian debian/12
  base_path=$(default_deployment path)

  step "deblayer status: one deployment, the plain base"
  deblayer status

  step "deblayer install htop: package lists, resolve, download, compose a layered commit, deploy it"
  deblayer install -y htop
  layered_path=$(default_deployment path)
  if [ "$layered_path" = "$base_path" ]; then
    echo "demo: install did not make a new default deployment" >&2
    exit 1
  fi
  echo "New deployment: $layered_path"

  step "deblayer status: the layered deployment is listed first (the default), the base after it"
  deblayer status

  step "deblayer history: the transaction and the layer state it recorded"
  deblayer history

  step "Run htop from the new deployment"
  run chroot "$layered_path" /usr/bin/htop --version

  step "deblayer rollback: the base deployment is the default again"
  deblayer rollback

  step "deblayer status after the rollback: the base is listed first again"
  deblayer status
  now=$(default_deployment path)
  if [ "$now" != "$base_path" ]; then
    echo "demo: after the rollback the default deployment is $now, not the base $base_path" >&2
    exit 1
  fi
  if [ -e "$now/usr/bin/htop" ]; then
    echo "demo: the base deployment has /usr/bin/htop" >&2
    exit 1
  fi
  echo "The default deployment is the base again ($now): it has no htop."
}

if [ "${1:-}" = "--in-namespace" ]; then
  in_namespace
  exit 0
fi

# ---------------------------------------------------------------------------
# Part 1: on the host.
# ---------------------------------------------------------------------------
if [ "$(id -u)" != 0 ]; then
  echo "demo: run as root (it installs packages, debootstraps, mounts a tmpfs)" >&2
  exit 1
fi

# The test suite runs this script after its own setup (test/demo.test.ts).
if [ -z "${DEBLAYER_DEMO_SKIP_SETUP:-}" ]; then
  step "Set up: Debian and npm dependencies, build"
  run sh test/setup.sh
fi

step "A real Debian base: debootstrap bookworm minbase + systemd-sysv (built once, then cached)"
printf '+ %s\n' "sh test/make-real-base.sh"
tarball=$(sh test/make-real-base.sh)
echo "$tarball"

WORK=$(mktemp -d /tmp/deblayer-demo-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
REPO=$WORK/repo
CACHE=$WORK/cache
export WORK REPO CACHE
mkdir -p "$WORK/root" "$WORK/sysroot" "$CACHE"
echo "Work directory: $WORK (removed at the end)"

step "Unpack the base and add a stand-in kernel (ostree admin deploy needs one)"
run tar --numeric-owner -xpf "$tarball" -C "$WORK/root"
kver=6.1.0-0-demo
run mkdir -p "$WORK/root/usr/lib/modules/$kver"
echo "stand-in kernel" >"$WORK/root/boot/vmlinuz-$kver"
echo "stand-in initrd" >"$WORK/root/boot/initrd.img-$kver"
echo "(wrote $WORK/root/boot/vmlinuz-$kver and initrd.img-$kver)"

step "Import the base into a new OSTree repository as debian/12"
printf '+ deblayer --repo %s base import %s -b debian/12\n' "$REPO" "$WORK/root"
node dist/bundle/main.js --repo "$REPO" base import "$WORK/root" -b debian/12
rm -rf "$WORK/root"

step "Continue in a private mount namespace, with the sysroot on a tmpfs"
run unshare --mount --propagation private sh test/demo.sh --in-namespace

step "Done: the tmpfs sysroot went away with its namespace; removing $WORK"
