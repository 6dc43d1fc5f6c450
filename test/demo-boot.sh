#!/bin/sh
# deblayer's boot demo (fresh Debian 12, as root): a trixie base that boots,
# with deblayer in it, imported and written as a disk image; booted under qemu
# (OVMF firmware, GRUB from the ESP, software emulation) where deblayer
# installs nginx; the next boot serves nginx's page on a forwarded port; a
# rollback in the guest, and the boot after it serves nothing. Prints each
# step and how long it took.
#
# Caches: the bootable base tarball is kept in /var/cache/deblayer-tests/bases
# (override DEBLAYER_BASE_CACHE; see test/make-boot-base.sh). Everything else
# is in a temporary directory removed at the end. Nothing is mounted on the
# host: deblayer image builds its sysroot in a private mount namespace.
set -eu
cd "$(dirname "$0")/.."

WORK=$(mktemp -d /tmp/deblayer-demo-boot.XXXXXX)
QEMU_PID=
cleanup() {
  if [ -n "$QEMU_PID" ]; then kill "$QEMU_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
# sh goes on after a trapped signal: stop, and let the EXIT trap clean up.
trap 'exit 130' INT TERM

T0=$(date +%s)
STEP_START=$T0
step() {
  now=$(date +%s)
  if [ "$STEP_START" != "$T0" ] || [ "$now" != "$T0" ]; then printf '    (%s s)\n' "$((now - STEP_START))"; fi
  STEP_START=$now
  printf '\n==> %s\n' "$*"
}
run() { printf '+ %s\n' "$*"; "$@"; }
deblayer() {
  printf '+ deblayer %s\n' "$*"
  node dist/bundle/main.js "$@"
}

# Boots the image once: the probe in the guest runs SCRIPT and powers off.
# With a PORT, the guest's port 80 is forwarded to 127.0.0.1:PORT and the page
# is fetched when the guest says "ready-for-http".
boot() {
  name=$1 script=$2 port=${3:-}
  printf '%s\n' "$script" >"$WORK/$name.sh"
  : >"$WORK/$name.console"
  : >"$WORK/$name.probe"
  net="user,id=n0"
  if [ -n "$port" ]; then net="$net,hostfwd=tcp:127.0.0.1:$port-:80"; fi
  printf '+ qemu-system-x86_64 -accel tcg -machine q35 -bios OVMF.fd -drive file=disk.img ... (console: %s)\n' "$WORK/$name.console"
  started=$(date +%s)
  # One vCPU: multi-threaded TCG with two once crashed a trixie guest's kernel
  # while it patched its own code (see test/helpers/guest.ts).
  qemu-system-x86_64 -accel tcg -machine q35 -smp 1 -m 2048 -bios /usr/share/ovmf/OVMF.fd \
    -display none -no-reboot -drive "file=$WORK/disk.img,format=raw,if=virtio" \
    -serial "file:$WORK/$name.console" -serial "file:$WORK/$name.probe" \
    -fw_cfg "name=opt/deblayer/probe,file=$WORK/$name.sh" \
    -netdev "$net" -device virtio-net-pci,netdev=n0,romfile= &
  QEMU_PID=$!
  fetched=
  while kill -0 "$QEMU_PID" 2>/dev/null; do
    if [ "$(($(date +%s) - started))" -gt 900 ]; then
      echo "the guest did not finish within 900 s; last console lines:" >&2
      tail -n 30 "$WORK/$name.console" >&2
      exit 1
    fi
    if [ -n "$port" ] && [ -z "$fetched" ] && grep -q '^ready-for-http' "$WORK/$name.probe"; then
      fetched=yes
      printf '+ curl http://127.0.0.1:%s/\n' "$port"
      if curl -sS --max-time 20 "http://127.0.0.1:$port/" >"$WORK/page.html" 2>"$WORK/curl.err"; then
        printf '    page title: %s\n' "$(sed -n 's:.*<title>\(.*\)</title>.*:\1:p' "$WORK/page.html")"
      else
        printf '    no page: %s\n' "$(cat "$WORK/curl.err")"
      fi
    fi
    sleep 1
  done
  wait "$QEMU_PID" || true
  QEMU_PID=
  up=$(grep -a -q 'DEBLAYER-PROBE-BEGIN' "$WORK/$name.probe" && echo yes || echo no)
  printf '    guest report (%s s in qemu):\n' "$(($(date +%s) - started))"
  # What the probe printed; the firmware and GRUB write to this port too, before it.
  tr -d '\r' <"$WORK/$name.probe" | sed -n '/DEBLAYER-PROBE-BEGIN/,$p' | sed -e '1d' -e '/^DEBLAYER-PROBE-END/d' -e 's/^/    | /'
  if [ "$up" != yes ] || ! grep -q 'DEBLAYER-PROBE-END 0' "$WORK/$name.probe"; then
    echo "the guest's probe did not finish cleanly; last console lines:" >&2
    tail -n 30 "$WORK/$name.console" >&2
    exit 1
  fi
}

REPORT='systemctl is-system-running --wait >/dev/null 2>&1
echo "system: $(systemctl is-system-running); $(systemd-analyze time | sed -n "s/^Startup finished in //p")"
deblayer status'

step "Set up what is missing (Debian packages, npm packages, build)"
sh test/setup.sh

step "Build or reuse a bootable trixie base (mmdebstrap: kernel, dracut with ostree's module, nodejs...)"
BASE=$(sh test/make-boot-base.sh trixie guest)
ls -l "$BASE"

step "Extract it, add deblayer and the boot probe (fixtures/guest)"
run sh test/prepare-guest-tree.sh "$BASE" "$WORK/tree" --with-deblayer

step "Import it as an OSTree base commit (checks that it can boot)"
deblayer --repo "$WORK/repo" base import "$WORK/tree" -b debian/trixie
rm -rf "$WORK/tree"

step "Write a disk image: GPT, EFI system partition with GRUB, the commit deployed in a fresh sysroot"
deblayer --repo "$WORK/repo" image debian/trixie -o "$WORK/disk.img" --size 6G --karg console=ttyS0
rm -rf "$WORK/repo"

step "Boot 1: the base; deblayer install nginx inside the guest (staged for the next boot)"
boot install "$REPORT
deblayer install -y nginx
echo \"install: exit status \$?\""

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
step "Boot 2: the layered deployment; fetch nginx's page over the forwarded port; deblayer rollback in the guest"
boot layered "$REPORT
echo \"nginx: \$(systemctl is-active nginx), \$(dpkg-query -W -f='\${Package} \${Version} \${db:Status-Abbrev}' nginx)\"
echo ready-for-http
for i in \$(seq 1 60); do grep -q 'GET / ' /var/log/nginx/access.log 2>/dev/null && break; sleep 1; done
deblayer rollback
echo \"rollback: exit status \$?\"" "$PORT"
LAYERED_PAGE=$(sed -n 's:.*<title>\(.*\)</title>.*:\1:p' "$WORK/page.html")
rm -f "$WORK/page.html"

step "Boot 3: after the rollback"
boot rolledback "$REPORT
echo \"nginx: \$(dpkg-query -W -f='\${db:Status-Abbrev}' nginx 2>/dev/null || echo not installed)\"
echo ready-for-http
sleep 10" "$PORT"
ROLLED_BACK_PAGE=$(sed -n 's:.*<title>\(.*\)</title>.*:\1:p' "$WORK/page.html" 2>/dev/null || true)

step "The difference"
printf '    with nginx layered:  page "%s"\n' "${LAYERED_PAGE:-none}"
printf '    after the rollback:  page "%s"\n' "${ROLLED_BACK_PAGE:-none (nothing listens on port 80)}"
if [ "$LAYERED_PAGE" != "Welcome to nginx!" ] || [ -n "$ROLLED_BACK_PAGE" ]; then
  echo "demo:boot: the pages are not what they should be" >&2
  exit 1
fi
now=$(date +%s)
printf '    (%s s)\n\nDone in %s s.\n' "$((now - STEP_START))" "$((now - T0))"
