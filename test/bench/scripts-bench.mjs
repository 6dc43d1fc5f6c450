// npm run bench:scripts: the time maintainer scripts take in deblayer (the
// `scripts` stage of `deblayer install`: views, preinsts, triggers, `dpkg
// --configure --pending` in bwrap, the diff read back and committed), against
// `apt-get install` of the same packages into a plain chroot of the same base,
// which runs the same scripts (and unpacks too), with the same policy-rc.d.
// Both from a warm apt cache, interleaved, medians and ratios.
// Runs in a private mount namespace with the sysroot on a tmpfs.
//
//   node test/bench/scripts-bench.mjs [--rounds N]

import { copyFileSync, readdirSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { cli, env, extractRealBase, inPrivateMountNamespace, median, root, roundsFrom, scratch, sh, timed, tmpfsSysroot } from './common.mjs';

const args = process.argv.slice(2);
const rounds = roundsFrom(args);
inPrivateMountNamespace(import.meta.url, args);
const { work, mounts } = scratch('scripts-bench');
const f2 = (x) => x.toFixed(2);

const requests = [
  { label: 'nginx-light cron openssh-server', pkgs: ['nginx-light', 'cron', 'openssh-server'] },
  { label: '+ man-db ca-certificates curl vim-tiny', pkgs: ['nginx-light', 'cron', 'openssh-server', 'man-db', 'ca-certificates', 'curl', 'vim-tiny'] },
];

console.error('scripts-bench: preparing a real base, an offline sysroot and a chroot');
const tree = extractRealBase(join(work, 'tree'));
const repo = join(work, 'repo');
const cache = join(work, 'cache');
// The chroot copy is made before the import (which moves /etc and /var into /usr).
const pristine = join(work, 'chroot-pristine');
sh('cp', ['-a', tree, pristine]);
sh('node', [cli, '--repo', repo, '-q', 'base', 'import', tree, '-b', 'debian/12']);
const sysroot = tmpfsSysroot(join(work, 'sysroot'), mounts, repo, 'debian/12');
const deblayer = (...a) => ['node', [cli, '--sysroot', sysroot, '--cache-dir', cache, ...a]];
for (const r of requests) sh(...deblayer('-q', 'install', '--download-only', ...r.pkgs));

rmSync(join(pristine, 'etc/resolv.conf'), { force: true });
copyFileSync('/etc/resolv.conf', join(pristine, 'etc/resolv.conf'));
// The same policy as deblayer's sandbox: no service starts.
writeFileSync(join(pristine, 'usr/sbin/policy-rc.d'), '#!/bin/sh\nexit 101\n');
chmodSync(join(pristine, 'usr/sbin/policy-rc.d'), 0o755);
sh('chroot', [pristine, 'apt-get', 'update', '-qq']);
const debs = join(cache, 'archives');
for (const f of readdirSync(debs).filter((n) => n.endsWith('.deb'))) copyFileSync(join(debs, f), join(pristine, 'var/cache/apt/archives', f));

const results = Object.fromEntries(requests.map((r) => [r.label, { apt: [], install: [], scripts: [] }]));
for (let round = 1; round <= rounds; round++) {
  console.error(`scripts-bench: round ${round}/${rounds}`);
  for (const r of requests) {
    const res = results[r.label];
    const chroot = join(work, 'chroot');
    rmSync(chroot, { recursive: true, force: true });
    sh('cp', ['-a', pristine, chroot]);
    sh('mount', ['-t', 'proc', 'proc', join(chroot, 'proc')]);
    try {
      res.apt.push(timed('chroot', [chroot, 'apt-get', 'install', '-y', '-qq', '--no-download', ...r.pkgs]).seconds);
    } finally {
      sh('umount', [join(chroot, 'proc')]);
    }
    const d = timed(...deblayer('-v', 'install', '-y', '--cache-only', ...r.pkgs));
    res.install.push(d.seconds);
    res.scripts.push(Number(/^ {2}scripts: ([\d.]+) s$/m.exec(d.stderr)?.[1] ?? NaN));
    sh(...deblayer('-q', 'uninstall', '--cache-only', ...r.pkgs));
  }
}

console.log(`scripts: deblayer's scripts stage vs apt-get install (unpack + the same scripts) in a chroot of the same base; warm apt cache, medians of ${rounds} rounds`);
console.log('request                                  apt-get s  scripts s  /apt  deblayer install s  /apt');
for (const r of requests) {
  const res = results[r.label];
  const [apt, scripts, install] = [median(res.apt), median(res.scripts), median(res.install)];
  console.log(`${r.label.padEnd(39)}  ${f2(apt).padStart(9)}  ${f2(scripts).padStart(9)}  ${f2(scripts / apt).padStart(4)}  ${f2(install).padStart(18)}  ${f2(install / apt).padStart(4)}`);
}
