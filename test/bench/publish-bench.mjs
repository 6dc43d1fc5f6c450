// npm run bench:publish: what a host downloads to follow a composed branch.
// A manifest of real packages on the real Debian 12 base is composed and
// published; two offline hosts rebase onto it over HTTP; the manifest gains a
// package, is composed and published again (with a static delta from the
// previous commit); one host upgrades from the published repository, the other
// from a copy without deltas. Bytes and requests come from the server's own
// count of what it sent. Bytes do not depend on the machine: one round.
//
//   node test/bench/publish-bench.mjs

import { createReadStream, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join, normalize } from 'node:path';
import { cli, extractRealBase, inPrivateMountNamespace, scratch, sh, tmpfsSysroot } from './common.mjs';

const V1 = ['nginx-light', 'curl', 'htop', 'jq', 'rsync', 'less', 'tmux', 'vim-tiny'];
const ADDED = 'strace';

inPrivateMountNamespace(import.meta.url, process.argv.slice(2));
const { work, mounts } = scratch('publish-bench');
const builder = join(work, 'builder');
const cache = join(work, 'cache');
const manifest = join(work, 'web.layer');
const writeManifest = (pkgs) => writeFileSync(manifest, `Base: debian/12\nBranch: bench/web\nPackages: ${pkgs.join(', ')}\n`);

// A static file server that counts what it sends, by URL path.
const sent = [];
const server = createServer((req, res) => {
  const path = normalize(decodeURIComponent(req.url.split('?')[0])).replace(/^(\.\.[/\\])+/, '');
  try {
    const file = join(work, 'www', path);
    const st = statSync(file);
    if (!st.isFile()) throw new Error('not a file');
    res.writeHead(200, { 'content-length': st.size });
    sent.push({ path, bytes: st.size });
    createReadStream(file).pipe(res);
  } catch {
    sent.push({ path, bytes: 0, missing: true });
    res.writeHead(404).end();
  }
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${server.address().port}/`;

const run = (args) => new Promise((resolve, reject) => {
  // Asynchronous: the server above runs in this process and must keep answering.
  import('node:child_process').then(({ spawn }) => {
    const p = spawn('node', [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`deblayer ${args.join(' ')} failed (${code}):\n${err}`))));
  });
});

console.error('publish-bench: the real base, a builder repository, two offline hosts');
const tree = extractRealBase(join(work, 'tree'));
sh('node', [cli, '--repo', builder, '-q', 'base', 'import', tree, '-b', 'debian/12']);
writeManifest(V1);
await run(['--repo', builder, '--cache-dir', cache, '-q', 'compose', manifest]);
mkdirSync(join(work, 'www'));
await run(['--repo', builder, '-q', 'publish', join(work, 'www/with')]);

const hosts = ['with', 'without'].map((name) => {
  const path = tmpfsSysroot(join(work, `host-${name}`), mounts, builder, 'debian/12');
  return { name, path, cache: join(work, `cache-${name}`) };
});
for (const h of hosts) {
  await run(['--sysroot', h.path, '--cache-dir', h.cache, '-q', 'rebase', '--remote', `pub=${url}with/`, '--no-gpg-verify', 'pub:bench/web']);
}

writeManifest([...V1, ADDED]);
await run(['--repo', builder, '--cache-dir', cache, '-q', 'compose', manifest]);
await run(['--repo', builder, '-q', 'publish', join(work, 'www/with')]);
sh('cp', ['-a', join(work, 'www/with'), join(work, 'www/without')]);
sh('rm', ['-rf', join(work, 'www/without/deltas'), join(work, 'www/without/delta-indexes')]);
sh('ostree', [`--repo=${join(work, 'www/without')}`, 'summary', '-u']);
const without = hosts[1];
sh('ostree', [`--repo=${without.path}/ostree/repo`, 'remote', 'delete', 'pub']);
sh('ostree', [`--repo=${without.path}/ostree/repo`, 'remote', 'add', '--no-gpg-verify', 'pub', `${url}without/`]);

const measured = {};
for (const h of hosts) {
  const from = sent.length;
  await run(['--sysroot', h.path, '--cache-dir', h.cache, '-q', 'upgrade']);
  const mine = sent.slice(from).filter((s) => !s.missing);
  measured[h.name] = { bytes: mine.reduce((n, s) => n + s.bytes, 0), requests: mine.length, deltaParts: mine.filter((s) => s.path.includes('/deltas/')).length };
}
server.close();
const [w, wo] = [measured.with, measured.without];
if (w.deltaParts === 0) throw new Error('the upgrade with deltas published fetched no delta');
const mb = (b) => (b / 1e6).toFixed(2);
console.log(`publish: a host's upgrade to a composed branch that gained ${ADDED} (${V1.length} packages before), over HTTP`);
console.log(`  with the static delta:    ${mb(w.bytes)} MB in ${w.requests} requests (${w.deltaParts} delta parts)`);
console.log(`  without (objects only):   ${mb(wo.bytes)} MB in ${wo.requests} requests`);
console.log(`  ratio with/without: ${(w.bytes / wo.bytes).toFixed(2)} of the bytes, ${(w.requests / wo.requests).toFixed(3)} of the requests`);
