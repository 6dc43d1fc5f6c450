// npm run bench:startup: what deblayer costs before its first command runs.
// Times `deblayer --version`, `--help` and `status` (on an offline sysroot
// with a real base deployed and htop layered on it, so status reads two
// deployments, an origin with requests and the layer database) against
// `node -e 0` in the same rounds, interleaved; medians, and ratios to the
// baseline. Then where the time goes: the import of each heavy dependency in a
// fresh node (ms inside the process), and the ostree commands status runs,
// each against the same baseline.
// Runs in a private mount namespace with the sysroot on a tmpfs.
//
//   node test/bench/startup-bench.mjs [--rounds N] [--cli PATH]...
//
// --cli (repeatable) times other builds' main.js beside this one's (another
// worktree's dist/bundle/main.js, or this one's dist/cli/main.js as tsc left it,
// unbundled), each with its own ratios to the same baseline.

import { join } from 'node:path';
import { cli, extractRealBase, inPrivateMountNamespace, median, root, roundsFrom, scratch, sh, timed, tmpfsSysroot } from './common.mjs';

const args = process.argv.slice(2);
const rounds = roundsFrom(args, 15);
const clis = [cli, ...args.flatMap((a, i) => (a === '--cli' && args[i + 1] ? [args[i + 1]] : []))];
inPrivateMountNamespace(import.meta.url, args);
const { work, mounts } = scratch('startup-bench');
const f2 = (x) => x.toFixed(2);
const f3 = (x) => x.toFixed(3);

console.error('startup-bench: preparing a real base and an offline sysroot with htop layered');
const tree = extractRealBase(join(work, 'tree'));
const repo = join(work, 'repo');
const cache = join(work, 'cache');
sh('node', [cli, '--repo', repo, '-q', 'base', 'import', tree, '-b', 'debian/12']);
const sysroot = tmpfsSysroot(join(work, 'sysroot'), mounts, repo, 'debian/12');
sh('node', [cli, '--sysroot', sysroot, '--cache-dir', cache, '-q', 'install', '-y', 'htop']);
const deployments = JSON.parse(sh('node', [cli, '--sysroot', sysroot, '--json', 'status'])).deployments;
if (deployments.length !== 2 || deployments[0].state === undefined) throw new Error('startup-bench: expected a layered deployment with a layer state over the base');

// Builds compared with --cli must say the same, or their times say nothing.
const shown = sh('node', [cli, '--sysroot', sysroot, 'status']);
for (const other of clis.slice(1)) {
  if (sh('node', [other, '--sysroot', sysroot, 'status']) !== shown) throw new Error(`startup-bench: ${other} shows another status than this build`);
}

// What is timed: [label, program, argv]. The baseline comes first in every round.
const baseline = ['node -e 0', process.execPath, ['-e', '0']];
const commands = clis.flatMap((main, i) => {
  const tag = clis.length > 1 ? ` [${i}]` : '';
  return [
    [`--version${tag}`, process.execPath, [main, '--version']],
    [`--help${tag}`, process.execPath, [main, '--help']],
    [`status${tag}`, process.execPath, [main, '--sysroot', sysroot, 'status']],
  ];
});
// The programs status runs, each as a whole process.
const commit = deployments[0].checksum;
const programs = [
  ['ostree admin status', 'ostree', ['admin', 'status', `--sysroot=${sysroot}`]],
  ['ostree show --raw (one per deployment)', 'ostree', [`--repo=${sysroot}/ostree/repo`, 'show', '--raw', commit]],
];
// Dependencies, each imported alone in a fresh node: milliseconds inside the process.
const imports = ['commander', 'execa', 'better-sqlite3', 'tar-stream', 'debian-control', 'zstd-napi'];
const importMs = (spec) =>
  Number(sh(process.execPath, ['--input-type=module', '-e', `const t = performance.now(); await import(${JSON.stringify(spec)}); console.log(performance.now() - t)`], { cwd: root }).trim());

const times = new Map([baseline, ...commands, ...programs].map(([label]) => [label, []]));
const ms = new Map(imports.map((i) => [i, []]));
for (let round = 1; round <= rounds; round++) {
  if (round === 1 || round % 5 === 0) console.error(`startup-bench: round ${round}/${rounds}`);
  for (const [label, program, argv] of [baseline, ...commands, ...programs]) times.get(label).push(timed(program, argv).seconds);
  for (const i of imports) ms.get(i).push(importMs(i));
}

const base = median(times.get(baseline[0]));
console.log(`startup: medians of ${rounds} rounds, interleaved; ratios to node -e 0 (${f3(base)} s) in the same rounds`);
if (clis.length > 1) clis.forEach((main, i) => console.log(`  [${i}] ${i === 0 ? 'this build' : main}`));
console.log('command                                    s  / node -e 0');
for (const [label] of [...commands, ...programs]) {
  const t = median(times.get(label));
  console.log(`${label.padEnd(40)} ${f3(t).padStart(6)}  ${f2(t / base).padStart(10)}`);
}
console.log(`imports in a fresh node (ms inside the process; node -e 0 is ${(base * 1000).toFixed(0)} ms as a whole process):`);
console.log(`  ${imports.map((i) => `${i} ${median(ms.get(i)).toFixed(1)}`).join(', ')}`);
