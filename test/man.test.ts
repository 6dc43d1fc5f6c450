// The man page renders cleanly and documents every command and option the CLI has
// (its exit statuses are checked in test/unit/man.test.ts).

import { execa } from 'execa';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { deblayer } from './helpers/cli.js';

const PAGE = new URL('../man/deblayer.8', import.meta.url).pathname;

describe('man/deblayer.8', () => {
  it('has no mandoc lint warnings', async () => {
    const r = await execa('mandoc', ['-T', 'lint', '-W', 'warning', PAGE], { reject: false });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
  });

  it('renders with groff without warnings, with every required section', async () => {
    const r = await execa('groff', ['-man', '-Tutf8', '-P-cbou', '-ww', PAGE], { env: { LC_ALL: 'C.UTF-8' } });
    expect(r.stderr).toBe('');
    for (const section of ['NAME', 'SYNOPSIS', 'DESCRIPTION', 'COMMANDS', 'OPTIONS', 'FILES', 'EXIT STATUS', 'EXAMPLES', 'SEE ALSO']) {
      expect(r.stdout).toMatch(new RegExp(`^${section}$`, 'm'));
    }
    const rendered = await execa('man', ['-l', PAGE], { env: { MANPAGER: 'cat', MANWIDTH: '80' } });
    expect(rendered.stdout).toContain('deblayer');
  });

  it('covers every command and global option of --help', async () => {
    const text = readFileSync(PAGE, 'utf8').replace(/\\-/g, '-').replace(/\\f[BIRP]/g, '');
    const help = (await deblayer(['--help'])).stdout;
    for (const m of help.matchAll(/^\s+(-\w, )?(--[a-z-]+)/gm)) expect(text).toContain(m[2]!);
    for (const cmd of ['deb info', 'deb contents', 'deb extract', '--layer', 'base import', 'base info', 'refresh-md', 'install', 'uninstall', 'upgrade', 'status', 'history', 'rollback', 'cleanup', 'image', 'rebase', 'publish', 'compose', 'apply', 'completion', 'override remove', 'override replace', 'override reset', 'usroverlay', 'apply-live', 'sysext']) {
      expect(text).toContain(cmd);
    }
    // And every option of every command.
    for (const cmd of [['base', 'import'], ['base', 'info'], ['refresh-md'], ['install'], ['uninstall'], ['upgrade'], ['rollback'], ['cleanup'], ['image'], ['rebase'], ['publish'], ['compose'], ['apply'], ['deb', 'extract'], ['override', 'remove'], ['override', 'replace'], ['override', 'reset'], ['usroverlay'], ['apply-live'], ['sysext']]) {
      const sub = (await deblayer([...cmd, '--help'])).stdout;
      for (const m of sub.matchAll(/^\s+(-\w, )?(--[a-z-]+)/gm)) expect(text, `${cmd.join(' ')} ${m[2]}`).toContain(m[2]!);
    }
  });
});
