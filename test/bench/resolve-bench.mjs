// npm run bench:resolve: time of `deblayer install --dry-run` (resolve a
// request against an imported base, with the archive as source) against plain
// `apt-get -s install` in a chroot of the same tree, for a 1-package and a
// 30-package request, in the same run, interleaved, reported as medians and
// as a ratio (deblayer time / apt-get time). Node's own start-up (`node -e 0`)
// is shown as context: a fixed cost of every deblayer call.
//
// The base is the debootstrapped bookworm minbase of test/make-real-base.sh;
// both sides fetch the archive's lists once before timing (needs network).
//
//   node test/bench/resolve-bench.mjs [--rounds N]

import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('../../', import.meta.url).pathname;
const cli = join(root, 'dist/bundle/main.js');
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const rounds = Number(opt('--rounds', '5'));
if (!Number.isInteger(rounds) || rounds < 1) {
  console.error('resolve-bench: --rounds wants a positive integer');
  process.exit(2);
}
if (!existsSync(cli)) {
  console.error(`resolve-bench: ${cli} is missing: build first (npx tsc -p .)`);
  process.exit(2);
}

const BRANCH = 'debian/12';
// 30 packages of bookworm main, none of them in the minbase, installable together.
const THIRTY = [
  'htop', 'curl', 'strace', 'gdb', 'nginx-light', 'vim-tiny', 'less', 'tmux', 'git', 'jq',
  'rsync', 'file', 'lsof', 'psmisc', 'tree', 'unzip', 'zip', 'bzip2', 'xz-utils', 'wget',
  'procps', 'iproute2', 'iputils-ping', 'netcat-openbsd', 'dnsutils', 'openssh-client', 'sudo', 'nano', 'tcpdump', 'ethtool',
];
const requests = [
  { label: '1 package', pkgs: ['htop'] },
  { label: '30 packages', pkgs: THIRTY },
];
if (THIRTY.length !== 30 || new Set(THIRTY).size !== 30) throw new Error('the 30-package request must name 30 distinct packages');

const env = { ...process.env, LC_ALL: 'C' };
const work = mkdtempSync(join(tmpdir(), 'deblayer-resolve-bench-'));
const repo = join(work, 'repo');
const cache = join(work, 'cache');
const chroot = join(work, 'chroot');
const cleanup = () => rmSync(work, { recursive: true, force: true });
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    cleanup();
    process.exit(130);
  });
}

/** Runs a command, throwing with its stderr when it fails; returns stdout. */
function run(cmd, argv) {
  const r = spawnSync(cmd, argv, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed (${r.status ?? r.signal}):\n${r.stderr}`);
  return r.stdout;
}

/** Wall-clock seconds of one run, its output discarded. */
function timed(cmd, argv) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, argv, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed (${r.status ?? r.signal}):\n${r.stderr}`);
  return secs;
}

const deblayerArgs = (pkgs) => [cli, '--repo', repo, '--cache-dir', cache, 'install', '-n', '--base', BRANCH, ...pkgs];
const aptArgs = (pkgs) => [chroot, 'apt-get', '-s', 'install', ...pkgs];
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

try {
  // Setup, as test/real-base.test.ts does it.
  const base = execFileSync('sh', [join(root, 'test/make-real-base.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  process.stderr.write(`resolve-bench: base ${base}\n`);
  run('node', [cli, '--repo', repo, 'base', 'import', base, '-b', BRANCH, '--no-kernel']);
  mkdirSync(chroot);
  run('tar', ['--numeric-owner', '-xpf', base, '-C', chroot]);
  rmSync(join(chroot, 'etc/resolv.conf'), { force: true });
  copyFileSync('/etc/resolv.conf', join(chroot, 'etc/resolv.conf'));
  process.stderr.write('resolve-bench: fetching the archive lists for both sides\n');
  run('chroot', [chroot, 'apt-get', 'update', '-qq']);
  run('node', [cli, '--repo', repo, '--cache-dir', cache, 'refresh-md', '--base', BRANCH]);

  // The requests must be new to the base, and both sides must agree on the plan.
  const installed = new Set(
    run('dpkg-query', [`--admindir=${join(chroot, 'var/lib/dpkg')}`, '-W', '-f', '${db:Status-Status} ${Package}\n'])
      .split('\n')
      .filter((l) => l.startsWith('installed '))
      .map((l) => l.slice('installed '.length)),
  );
  for (const r of requests) {
    const inBase = r.pkgs.filter((p) => installed.has(p));
    if (inBase.length) throw new Error(`already in the base: ${inBase.join(' ')}`);
    const plan = JSON.parse(run('node', [cli, '--repo', repo, '--cache-dir', cache, '--json', 'install', '-n', '--base', BRANCH, ...r.pkgs]));
    const ours = plan.packages.map((p) => `${p.name}=${p.version}`).sort();
    const theirs = [...run('chroot', aptArgs(r.pkgs)).matchAll(/^Inst (\S+) (?:\[\S+\] )?\((\S+) /gm)]
      .map(([, name, version]) => `${name.replace(/:.*$/, '')}=${version}`)
      .sort();
    if (ours.join('\n') !== theirs.join('\n')) {
      throw new Error(`${r.label}: deblayer and apt-get plan differently:\n  deblayer: ${ours.join(' ')}\n  apt-get:  ${theirs.join(' ')}`);
    }
    r.planned = ours.length;
    r.deblayer = [];
    r.apt = [];
  }

  // Timed rounds, interleaved; which side goes first alternates by round.
  const startup = [];
  for (let i = 0; i < rounds; i++) {
    process.stderr.write(`resolve-bench: round ${i + 1}/${rounds}\n`);
    startup.push(timed('node', ['-e', '0']));
    for (const r of requests) {
      const sides = [
        () => r.deblayer.push(timed('node', deblayerArgs(r.pkgs))),
        () => r.apt.push(timed('chroot', aptArgs(r.pkgs))),
      ];
      if (i % 2) sides.reverse();
      for (const side of sides) side();
    }
  }

  const rows = [['request', 'planned', 'deblayer s', 'apt-get -s s', 'ratio']];
  for (const r of requests) {
    const d = median(r.deblayer);
    const a = median(r.apt);
    rows.push([r.label, String(r.planned), d.toFixed(2), a.toFixed(2), `${(d / a).toFixed(2)}x`]);
  }
  rows.push(['node -e 0', '', median(startup).toFixed(2), '', '']);
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  console.log(`resolve: deblayer install -n vs apt-get -s install in a chroot, medians of ${rounds} round${rounds > 1 ? 's' : ''}`);
  for (const row of rows) console.log(row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ').trimEnd());
} finally {
  cleanup();
}
