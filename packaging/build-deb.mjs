#!/usr/bin/env node
// `npm run deb [OUTDIR]`: deblayer as a Debian binary package,
// OUTDIR/deblayer_VERSION_ARCH.deb (OUTDIR: the project's root unless given).
// The program compiled afresh (no stale files of an old dist/) and bundled
// (packaging/bundle.mjs) into a staging tree, the python helpers, package.json (its "type": "module" makes the .js
// files ES modules), the production node modules of package-lock.json and the
// man page, under the layout packaging/README.md describes. The native modules
// (better-sqlite3, zstd-napi) make the package specific to the build machine's
// architecture. Reproducible enough to compare two builds: every mtime is the
// last commit's time (SOURCE_DATE_EPOCH), modes are normalised, and dpkg-deb
// sorts the members and clamps its own timestamps to SOURCE_DATE_EPOCH.
// Plain node:child_process: it must run before node_modules matter, and it
// spawns only Debian's tools and the project's tsc; esbuild is imported once
// they are there.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync, copyFileSync, cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync,
  readdirSync, rmSync, symlinkSync, writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';

const PROJECT = resolve(dirname(new URL(import.meta.url).pathname), '..');
const HERE = join(PROJECT, 'packaging');
const LIB = 'usr/lib/deblayer';

function run(program, args, options = {}) {
  try {
    return execFileSync(program, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...options });
  } catch (err) {
    const why = String(err.stderr ?? '').trim().split('\n').slice(-5).join('\n') || err.message;
    throw new Error(`${program} ${args.join(' ')} failed: ${why}`);
  }
}

function fail(message) {
  process.stderr.write(`build-deb: ${message}\n`);
  process.exit(1);
}

/** What apt and dpkg see of FILE: bytes through gzip -9n, no name or time in the header. */
function gzipNoName(data) {
  // zlib's header has mtime 0 and no file name: what `gzip -9n` writes, which lintian asks for.
  return gzipSync(data, { level: 9 });
}

/** The production packages of package-lock.json: what `npm ci --omit=dev` installs. */
function productionModules() {
  const lock = JSON.parse(readFileSync(join(PROJECT, 'package-lock.json'), 'utf8'));
  return Object.entries(lock.packages)
    .filter(([path, entry]) => path !== '' && !entry.dev && !entry.devOptional && !entry.link)
    .map(([path, entry]) => ({ path, version: entry.version, license: entry.license ?? 'UNKNOWN' }))
    .sort((a, b) => a.path.localeCompare(b.path));
}

/**
 * What a native module needs at run time is its package's JavaScript and the
 * built .node file: the compiler's intermediates (build/Release/obj.target,
 * Makefiles, config.gypi with this machine's paths), the bundled C sources
 * (deps/, src/) and better-sqlite3's test extension are left out.
 */
function trimNativeModule(dir) {
  for (const name of ['deps', 'src', 'binding.gyp', 'build_flags.gypi']) rmSync(join(dir, name), { recursive: true, force: true });
  const build = join(dir, 'build');
  if (!existsSync(build)) return;
  for (const name of readdirSync(build)) if (name !== 'Release') rmSync(join(build, name), { recursive: true, force: true });
  const release = join(build, 'Release');
  for (const name of readdirSync(release)) {
    if (!name.endsWith('.node') || name === 'test_extension.node') rmSync(join(release, name), { recursive: true, force: true });
  }
}

/** Copies the production modules into DEST/node_modules, each without the modules nested in it (listed on their own). */
function copyModules(dest, modules) {
  for (const m of modules) {
    const from = join(PROJECT, m.path);
    if (!existsSync(from)) fail(`${m.path} is missing: run npm ci first`);
    const to = join(dest, m.path);
    cpSync(from, to, {
      recursive: true,
      dereference: false,
      filter: (src) => !relative(from, src).split('/').includes('node_modules'),
    });
    if (existsSync(join(to, 'binding.gyp'))) trimNativeModule(to);
  }
  walk(join(dest, 'node_modules'), (path, st) => {
    const name = basename(path);
    // Dot files are the modules' development files (.npmignore, .eslintrc, .github/);
    // .bare files are addons of the Bare runtime (bare-fs and its kin, optional
    // dependencies of streamx and tar-stream), which Node never loads: prebuilt
    // for other systems and architectures, and unstripped.
    if (name.startsWith('.') || (st.isFile() && name.endsWith('.bare'))) rmSync(path, { recursive: true, force: true });
  });
}

/** Visits every path under DIR, parents first; VISIT may remove the path it is given. */
function walk(dir, visit) {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    const st = lstatSync(path);
    visit(path, st);
    if (st.isDirectory() && existsSync(path)) walk(path, visit);
  }
}

/**
 * Modes as a package has them, whatever the build machine's umask or npm left:
 * directories 0755, files that start with #! 0755 (lintian's
 * script-not-executable otherwise: main.js and the modules' own bin scripts),
 * everything else 0644, the .node addons too (loaded, never executed). The
 * python helpers have no #! line: they are run as `python3 FILE`.
 */
function normaliseModes(root) {
  walk(root, (path, st) => {
    if (st.isSymbolicLink()) return;
    if (st.isDirectory()) return chmodSync(path, 0o755);
    const head = readFileSync(path).subarray(0, 2).toString('latin1');
    chmodSync(path, head === '#!' ? 0o755 : 0o644);
  });
}

/** dpkg-gencontrol's measure: a file counts its size in KiB rounded up, anything else 1. */
function installedSize(root) {
  let kib = 0;
  walk(root, (path, st) => {
    if (relative(root, path).startsWith('DEBIAN')) return;
    kib += st.isFile() ? Math.ceil(st.size / 1024) : 1;
  });
  return kib;
}

/** shlibs:Depends of the native modules, from dpkg-shlibdeps (it wants a debian/control to read). */
function sharedLibraryDepends(stage) {
  const nodes = [];
  walk(stage, (path, st) => {
    if (st.isFile() && path.endsWith('.node')) nodes.push(path);
  });
  if (nodes.length === 0) return '';
  const work = mkdtempSync(join(tmpdir(), 'deblayer-shlibdeps-'));
  try {
    mkdirSync(join(work, 'debian'));
    writeFileSync(join(work, 'debian/control'), 'Source: deblayer\n\nPackage: deblayer\nArchitecture: any\n');
    const out = run('dpkg-shlibdeps', ['-O', ...nodes.map((n) => `-e${n}`)], { cwd: work });
    const m = /^shlibs:Depends=(.*)$/m.exec(out);
    if (!m) throw new Error(`dpkg-shlibdeps printed no shlibs:Depends: ${out.trim()}`);
    return m[1].trim();
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

// ---- machine-readable copyright (DEP-5) ------------------------------------

/** SPDX names of package.json files as DEP-5 short names; the texts are below or in /usr/share/common-licenses. */
const DEP5_NAMES = { MIT: 'Expat', ISC: 'ISC', 'Apache-2.0': 'Apache-2.0', 'BSD-2-Clause': 'BSD-2-clause', 'BSD-3-Clause': 'BSD-3-clause', 'GPL-3.0-or-later': 'GPL-3+', WTFPL: 'WTFPL' };

function dep5License(spdx) {
  const names = spdx.replace(/^\(|\)$/g, '').split(/\s+OR\s+/);
  return names.map((n) => DEP5_NAMES[n] ?? fail(`no DEP-5 name for the license ${n} (${spdx}): add it to build-deb.mjs`)).join(' or ');
}

// The BSD licences share their conditions and disclaimer; the 3-clause one adds no-endorsement.
const BSD_CONDITIONS = `Redistribution and use in source and binary forms, with or without
modification, are permitted provided that the following conditions are met:
.
1. Redistributions of source code must retain the above copyright notice,
   this list of conditions and the following disclaimer.
2. Redistributions in binary form must reproduce the above copyright notice,
   this list of conditions and the following disclaimer in the documentation
   and/or other materials provided with the distribution.
`;
const BSD_NO_ENDORSEMENT = `3. Neither the name of the copyright holder nor the names of its
   contributors may be used to endorse or promote products derived from
   this software without specific prior written permission.
`;
const BSD_DISCLAIMER = `.
THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS "AS IS"
AND ANY EXPRESS OR IMPLIED WARRANTIES, INCLUDING, BUT NOT LIMITED TO, THE
IMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS FOR A PARTICULAR PURPOSE
ARE DISCLAIMED. IN NO EVENT SHALL THE COPYRIGHT HOLDER OR CONTRIBUTORS BE
LIABLE FOR ANY DIRECT, INDIRECT, INCIDENTAL, SPECIAL, EXEMPLARY, OR
CONSEQUENTIAL DAMAGES (INCLUDING, BUT NOT LIMITED TO, PROCUREMENT OF
SUBSTITUTE GOODS OR SERVICES; LOSS OF USE, DATA, OR PROFITS; OR BUSINESS
INTERRUPTION) HOWEVER CAUSED AND ON ANY THEORY OF LIABILITY, WHETHER IN
CONTRACT, STRICT LIABILITY, OR TORT (INCLUDING NEGLIGENCE OR OTHERWISE)
ARISING IN ANY WAY OUT OF THE USE OF THIS SOFTWARE, EVEN IF ADVISED OF THE
POSSIBILITY OF SUCH DAMAGE.`;

const LICENSE_TEXTS = {
  'GPL-3+': `This program is free software: you can redistribute it and/or modify
it under the terms of the GNU General Public License as published by
the Free Software Foundation, either version 3 of the License, or
(at your option) any later version.
.
This program is distributed in the hope that it will be useful,
but WITHOUT ANY WARRANTY; without even the implied warranty of
MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the
GNU General Public License for more details.
.
On Debian systems, the complete text of the GNU General Public License
version 3 can be found in /usr/share/common-licenses/GPL-3.`,
  'Apache-2.0': `Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at
.
    http://www.apache.org/licenses/LICENSE-2.0
.
Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
.
On Debian systems, the complete text of the Apache License, Version 2.0
can be found in /usr/share/common-licenses/Apache-2.0.`,
  'GPL-2': `On Debian systems, the complete text of the GNU General Public License
version 2 can be found in /usr/share/common-licenses/GPL-2.`,
  Expat: `Permission is hereby granted, free of charge, to any person obtaining a
copy of this software and associated documentation files (the "Software"),
to deal in the Software without restriction, including without limitation
the rights to use, copy, modify, merge, publish, distribute, sublicense,
and/or sell copies of the Software, and to permit persons to whom the
Software is furnished to do so, subject to the following conditions:
.
The above copyright notice and this permission notice shall be included
in all copies or substantial portions of the Software.
.
THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS
OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF
MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT.
IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY
CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT,
TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE
SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.`,
  ISC: `Permission to use, copy, modify, and/or distribute this software for any
purpose with or without fee is hereby granted, provided that the above
copyright notice and this permission notice appear in all copies.
.
THE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES
WITH REGARD TO THIS SOFTWARE INCLUDING ALL IMPLIED WARRANTIES OF
MERCHANTABILITY AND FITNESS. IN NO EVENT SHALL THE AUTHOR BE LIABLE FOR
ANY SPECIAL, DIRECT, INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES
WHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS, WHETHER IN AN
ACTION OF CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF
OR IN CONNECTION WITH THE USE OR PERFORMANCE OF THIS SOFTWARE.`,
  'BSD-2-clause': `${BSD_CONDITIONS}${BSD_DISCLAIMER}`,
  'BSD-3-clause': `${BSD_CONDITIONS}${BSD_NO_ENDORSEMENT}${BSD_DISCLAIMER}`,
  WTFPL: `DO WHAT THE FUCK YOU WANT TO PUBLIC LICENSE, Version 2, December 2004
.
Everyone is permitted to copy and distribute verbatim or modified copies
of this license document, and changing it is allowed as long as the name
is changed.
.
DO WHAT THE FUCK YOU WANT TO PUBLIC LICENSE
TERMS AND CONDITIONS FOR COPYING, DISTRIBUTION AND MODIFICATION
.
0. You just DO WHAT THE FUCK YOU WANT TO.`,
  'public-domain': `The author disclaims copyright to this source code. In place of a legal
notice, here is a blessing:
.
May you do good and not evil.
May you find forgiveness for yourself and forgive others.
May you share freely, never taking more than you give.`,
};

/** The copyright lines of a module's own license file, else its author as package.json names it. */
function copyrightHolders(dir) {
  const lines = new Set();
  for (const name of readdirSync(dir).sort()) {
    if (!/^(licen[cs]e|copying)/i.test(name) || !lstatSync(join(dir, name)).isFile()) continue;
    for (const line of readFileSync(join(dir, name), 'utf8').split('\n')) {
      const m = /^\s*(?:copyright\s*)?(?:\(c\)|©)?\s*(?:copyright\s*)?(?:\(c\)|©)?\s*((?:19|20)\d\d.*)$/i.exec(line);
      if (/copyright/i.test(line) && m && !/notice|license|holder/i.test(line)) lines.add(m[1].trim());
    }
  }
  if (lines.size > 0) return [...lines];
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const author = typeof pkg.author === 'string' ? pkg.author : pkg.author?.name;
  return [author ? `${author}` : `the ${pkg.name} authors`];
}

function copyrightFile(stage, modules, bundled) {
  const paragraphs = [
    `Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\nUpstream-Name: deblayer\nComment: deblayer and the node modules it runs with, as npm installs them\n for production (package-lock.json); the two native modules are built\n on the machine that builds the package.`,
    `Files: *\nCopyright: deblayer maintainers <maintainers@users.noreply.r-seed-af5e3a8f.example>\nLicense: GPL-3+`,
  ];
  const used = new Set(['GPL-3+']);
  // The program's chunks hold the code of the modules bundled into them, under those modules' licenses too.
  const inBundle = modules.filter((m) => bundled.includes(m.path));
  const missing = bundled.filter((path) => !modules.some((m) => m.path === path));
  if (missing.length > 0) fail(`bundled, but not production modules of package-lock.json: ${missing.join(', ')}`);
  const bundleLicenses = [...new Set(inBundle.map((m) => dep5License(m.license)))].filter((l) => l !== 'GPL-3+').sort().map((l) => (l.includes(' or ') ? `(${l})` : l));
  const wrap = (words) => words.reduce((lines, w) => (lines.at(-1).length + w.length > 72 ? [...lines, w] : [...lines.slice(0, -1), `${lines.at(-1)} ${w}`.trim()]), ['']).join('\n ');
  paragraphs.push(
    `Files: ${LIB}/dist/bundle/*\nCopyright: deblayer maintainers <maintainers@users.noreply.r-seed-af5e3a8f.example>\n ${[...new Set(inBundle.flatMap((m) => copyrightHolders(join(stage, LIB, m.path))))].join('\n ')}\n` +
      `License: GPL-3+ and ${bundleLicenses.join(' and ')}\nComment: ${wrap(`deblayer's program, with these node modules bundled into it by esbuild, each under its license (its own paragraph below): ${inBundle.map((m) => `${m.path.replace(/^.*node_modules\//, '')} ${m.version}`).join(', ')}`.split(' '))}`,
  );
  for (const m of modules) {
    const license = dep5License(m.license);
    for (const name of license.split(' or ')) used.add(name);
    const holders = copyrightHolders(join(stage, LIB, m.path));
    paragraphs.push(`Files: ${LIB}/${m.path}/*\nCopyright: ${holders.join('\n ')}\nLicense: ${license}\nComment: ${m.path.replace(/^.*node_modules\//, '')} ${m.version}`);
  }
  // What the native modules link in statically, beside their own code.
  paragraphs.push(`Files: ${LIB}/node_modules/better-sqlite3/build/Release/better_sqlite3.node\nCopyright: the SQLite authors (public domain)\n 2017 Joshua Wise (better-sqlite3)\nLicense: public-domain and Expat\nComment: the SQLite amalgamation is compiled into the module`);
  paragraphs.push(`Files: ${LIB}/node_modules/zstd-napi/build/Release/binding.node\nCopyright: Meta Platforms, Inc. and affiliates (zstd)\n 2020 Andrew Drake (zstd-napi)\nLicense: (BSD-3-clause or GPL-2) and Apache-2.0\nComment: the zstd library is compiled into the module`);
  used.add('public-domain').add('GPL-2');
  for (const name of [...used].sort()) {
    if (!LICENSE_TEXTS[name]) fail(`no license text for ${name}`);
    paragraphs.push(`License: ${name}\n${LICENSE_TEXTS[name].split('\n').map((l) => ` ${l}`).join('\n')}`);
  }
  return `${paragraphs.join('\n\n')}\n`;
}

// ---- the package -------------------------------------------------------------

async function main() {
  const outDir = resolve(process.argv[2] ?? PROJECT);
  if (!existsSync(outDir)) fail(`${outDir}: no such directory`);
  const pkg = JSON.parse(readFileSync(join(PROJECT, 'package.json'), 'utf8'));
  const changelog = readFileSync(join(HERE, 'changelog'), 'utf8');
  const logged = /^deblayer \(([^)]+)\)/.exec(changelog)?.[1];
  if (logged !== pkg.version) fail(`packaging/changelog's first entry is ${logged}, package.json says ${pkg.version}: add an entry`);
  const arch = run('dpkg', ['--print-architecture']).trim();
  // The last commit's time: two builds of one commit give the same mtimes.
  const epoch = process.env.SOURCE_DATE_EPOCH ?? run('git', ['-C', PROJECT, 'log', '-1', '--format=%ct']).trim();
  if (!/^\d+$/.test(epoch)) fail(`SOURCE_DATE_EPOCH is not a number of seconds: ${epoch}`);

  const stage = mkdtempSync(join(tmpdir(), 'deblayer-deb-'));
  try {
    const lib = join(stage, LIB);
    mkdirSync(lib, { recursive: true });
    // Compiled afresh and bundled into the tree: no source maps (the sources are not shipped), no stale files of dist/.
    const compiled = join(stage, '.compiled');
    run(join(PROJECT, 'node_modules/.bin/tsc'), ['-p', PROJECT, '--outDir', compiled, '--sourceMap', 'false']);
    const { bundle } = await import('./bundle.mjs');
    const bundled = await bundle(compiled, join(lib, 'dist/bundle'));
    rmSync(compiled, { recursive: true });
    // python/ beside dist/: src/exec/python.ts finds it two levels up from dist/bundle.
    cpSync(join(PROJECT, 'python'), join(lib, 'python'), { recursive: true, filter: (src) => !src.includes('__pycache__') });
    copyFileSync(join(PROJECT, 'package.json'), join(lib, 'package.json'));
    const modules = productionModules();
    copyModules(lib, modules);
    // Stripped: lintian's unstripped-binary-or-object, and a tenth of the size.
    walk(lib, (path, st) => {
      if (st.isFile() && path.endsWith('.node')) run('strip', ['--strip-unneeded', '--remove-section=.comment', '--remove-section=.note', path]);
    });

    // /usr/bin/deblayer runs Debian's node, whatever node comes first on PATH
    // (main.js's own #!/usr/bin/env node would take a /usr/local one).
    mkdirSync(join(stage, 'usr/bin'), { recursive: true });
    writeFileSync(join(stage, 'usr/bin/deblayer'), `#!/bin/sh\nexec /usr/bin/node /${LIB}/dist/bundle/main.js "$@"\n`, { mode: 0o755 });

    const man = join(stage, 'usr/share/man/man8');
    mkdirSync(man, { recursive: true });
    writeFileSync(join(man, 'deblayer.8.gz'), gzipNoName(readFileSync(join(PROJECT, 'man/deblayer.8'))));
    // Made by the staged command itself, so that it completes exactly the options it has.
    const completions = join(stage, 'usr/share/bash-completion/completions');
    mkdirSync(completions, { recursive: true });
    writeFileSync(join(completions, 'deblayer'), run(process.execPath, [join(lib, 'dist/bundle/main.js'), 'completion', 'bash']));
    const units = join(stage, 'usr/lib/systemd/system');
    mkdirSync(units, { recursive: true });
    for (const unit of ['deblayer-upgrade.service', 'deblayer-upgrade.timer']) copyFileSync(join(HERE, unit), join(units, unit));
    const doc = join(stage, 'usr/share/doc/deblayer');
    mkdirSync(doc, { recursive: true });
    // changelog.gz, not changelog.Debian.gz: a native package (deblayer's own, no upstream apart) has one changelog.
    writeFileSync(join(doc, 'changelog.gz'), gzipNoName(Buffer.from(changelog)));
    writeFileSync(join(doc, 'copyright'), copyrightFile(stage, modules, bundled));
    const overrides = join(stage, 'usr/share/lintian/overrides');
    mkdirSync(overrides, { recursive: true });
    copyFileSync(join(HERE, 'lintian-overrides'), join(overrides, 'deblayer'));

    normaliseModes(stage);
    chmodSync(stage, 0o755); // mkdtemp's 0700 would be the package's ./
    const control = readFileSync(join(HERE, 'control.in'), 'utf8')
      .split('\n')
      .filter((line) => !line.startsWith('#'))
      .join('\n')
      .replace('@VERSION@', pkg.version)
      .replace('@ARCH@', arch)
      .replace('@INSTALLED_SIZE@', String(installedSize(stage)))
      .replace(', @SHLIBS@', (() => {
        const shlibs = sharedLibraryDepends(stage);
        return shlibs ? `, ${shlibs}` : '';
      })());
    mkdirSync(join(stage, 'DEBIAN'), { mode: 0o755 });
    writeFileSync(join(stage, 'DEBIAN/control'), control, { mode: 0o644 });
    // md5sums, as dh_md5sums writes it: what `dpkg --verify deblayer` checks on a host.
    const sums = [];
    walk(join(stage, 'usr'), (path, st) => {
      if (st.isFile()) sums.push(`${createHash('md5').update(readFileSync(path)).digest('hex')}  ${relative(stage, path)}\n`);
    });
    writeFileSync(join(stage, 'DEBIAN/md5sums'), sums.join(''), { mode: 0o644 });
    run('find', [stage, '-exec', 'touch', '--no-dereference', `--date=@${epoch}`, '{}', '+']);

    const deb = join(outDir, `deblayer_${pkg.version}_${arch}.deb`);
    run('dpkg-deb', ['--root-owner-group', '-Zxz', '--build', stage, deb], { env: { ...process.env, SOURCE_DATE_EPOCH: epoch } });
    process.stdout.write(`${deb}\n`);
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

try {
  await main();
} catch (err) {
  fail(err instanceof Error ? err.message : String(err));
}
