// The command line as users meet it: version, help, global options, usage
// errors (exit 2), failures (exit 1, one line), --json output.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { deblayer } from './helpers/cli.js';
import { useScratch } from './helpers/scratch.js';

const fixtures = inject('fixtures');
const tempDir = useScratch('cli');
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

describe('deblayer CLI', () => {
  it('prints its version', async () => {
    // Alone it is answered before commander loads; after another option, commander answers it.
    for (const args of [['--version'], ['-V'], ['-q', '--version']]) {
      const r = await deblayer(args);
      expect([r.exitCode, r.stdout, r.stderr], args.join(' ')).toEqual([0, pkg.version, '']);
    }
  });

  it('gives every command its --help, though a command loads its modules only when it runs', async () => {
    const commands = [['deb', 'info'], ['deb', 'contents'], ['deb', 'extract'], ['base', 'import'], ['base', 'info'], ['refresh-md'], ['install'], ['uninstall'], ['upgrade'], ['rebase'], ['apply'], ['status'], ['history'], ['rollback'], ['cleanup'], ['compose'], ['image'], ['publish'], ['completion'], ['override', 'remove'], ['override', 'replace'], ['override', 'reset'], ['usroverlay']];
    const results = await Promise.all(commands.map((cmd) => deblayer([...cmd, '--help'])));
    results.forEach((r, i) => {
      expect([r.exitCode, r.stderr], commands[i]!.join(' ')).toEqual([0, '']);
      expect(r.stdout).toMatch(new RegExp(`^Usage: deblayer ${commands[i]!.join(' ')} `));
    });
  });

  it('documents the global options and commands in --help', async () => {
    const r = await deblayer(['--help']);
    expect(r.exitCode).toBe(0);
    for (const opt of ['--sysroot <dir>', '--repo <dir>', '--os <name>', '--json', '-v, --verbose', '-q, --quiet', 'deb']) {
      expect(r.stdout).toContain(opt);
    }
    const deb = await deblayer(['deb', '--help']);
    for (const cmd of ['info', 'contents', 'extract']) expect(deb.stdout).toMatch(new RegExp(`^\\s+${cmd}\\b`, 'm'));
  });

  it('exits 2 with a usage message for unknown options, commands and missing arguments', async () => {
    for (const args of [['--bogus'], ['deb', 'frobnicate'], ['deb', 'extract', 'only-one-arg.deb']]) {
      const r = await deblayer(args);
      expect(r.exitCode, args.join(' ')).toBe(2);
      expect(r.stderr.split('\n')[0]).toMatch(/^deblayer: error: /);
      expect(r.stdout).toBe('');
    }
  });

  it('usroverlay unlocks only a booted OSTree deployment, and says so elsewhere', async () => {
    // This machine is not booted into an OSTree deployment (and a test must not unlock one).
    expect(existsSync('/run/ostree-booted')).toBe(false);
    const here = await deblayer(['usroverlay']);
    expect([here.exitCode, here.stderr]).toEqual([1, 'deblayer: error: usroverlay unlocks /usr of the booted OSTree deployment, and this machine is not booted into one (no /run/ostree-booted)']);
    const offline = await deblayer(['--sysroot', '/nonexistent/sysroot', 'usroverlay']);
    expect([offline.exitCode, offline.stderr]).toEqual([1, 'deblayer: error: usroverlay unlocks /usr of the booted OSTree deployment, and /nonexistent/sysroot is an offline sysroot']);
  });

  it('exits 1 with one line naming the file when it cannot be read', async () => {
    const r = await deblayer(['deb', 'info', '/nonexistent/pkg.deb']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toBe('deblayer: error: /nonexistent/pkg.deb: cannot open: no such file');
    const v = await deblayer(['-v', 'deb', 'info', '/nonexistent/pkg.deb']);
    expect(v.exitCode).toBe(1);
    expect(v.stderr.split('\n').length).toBeGreaterThan(2);
    expect(v.stderr).toContain('ENOENT');
  });

  it('gives deb info as JSON', async () => {
    const r = await deblayer(['--json', 'deb', 'info', fixtures.all!.zstd!]);
    expect(r.exitCode).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(info.control.package).toBe('deblayer-fixture-all');
    expect(info.control.depends[0]).toEqual([{ name: 'libc6', op: '>=', version: '2.34' }]);
    expect(info.dataMember).toMatchObject({ name: 'data.tar.zst', compression: 'zstd' });
    expect(info.scripts.sort()).toEqual(['config', 'postinst', 'postrm', 'preinst', 'prerm']);
    expect(info.conffiles).toHaveLength(2);
  });

  it('gives deb contents as JSON, one object per entry', async () => {
    const r = await deblayer(['deb', 'contents', '--json', fixtures.minimal!.xz!]);
    expect(r.exitCode).toBe(0);
    const entries = JSON.parse(r.stdout) as { path: string; type: string; mode: string }[];
    expect(entries.map((e) => e.path)).toEqual(['', 'usr', 'usr/share', 'usr/share/deblayer-fixture-minimal', 'usr/share/deblayer-fixture-minimal/readme', 'usr/share/deblayer-fixture-minimal/readme-link']);
    expect(entries[4]).toMatchObject({ type: 'file', mode: '0644', size: 8 });
    expect(entries[5]).toMatchObject({ type: 'hardlink', linkTarget: 'usr/share/deblayer-fixture-minimal/readme' });
  });

  it('reports progress on stderr, and nothing with --quiet', async () => {
    const dir = join(tempDir(), 'out');
    const r = await deblayer(['deb', 'extract', fixtures.minimal!.xz!, dir]);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^Unpacked .* into .*: 6 entries, 8 B in [\d.]+s$/);
    const q = await deblayer(['-q', 'deb', 'extract', fixtures.minimal!.xz!, dir]);
    expect(q.stderr).toBe('');
    expect(q.exitCode).toBe(0);
  });

  it('shows a progress meter on a terminal, cleared before the summary', async () => {
    const { execa } = await import('execa');
    const dir = join(tempDir(), 'out');
    // script(1) gives the command a pseudo-terminal, as a user's shell would.
    const r = await execa('script', ['-qec', `node ${new URL('../dist/bundle/main.js', import.meta.url).pathname} deb extract ${fixtures.all!.xz!} ${dir}`, '/dev/null']);
    expect(r.stdout).toContain('\r\x1b[KUnpacking deblayer-fixture-all.xz.deb: 1 entries');
    expect(r.stdout).toMatch(/\r\x1b\[KUnpacked .* into .*: \d+ entries/);
  });

  it('ends quietly when its output pipe is closed early', async () => {
    const { execa } = await import('execa');
    const r = await execa('sh', ['-c', `node ${new URL('../dist/bundle/main.js', import.meta.url).pathname} deb contents "$1" | head -1`, 'sh', fixtures.all!.xz!], { reject: false });
    expect(r.stdout.split('\n')).toHaveLength(1);
    expect(r.stderr).toBe('');
  });
});
