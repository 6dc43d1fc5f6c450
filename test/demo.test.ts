// The README's main command, `npm run demo`, run whole in the suite: once the
// suite was green while the demo failed at its last step (rollback), so a
// failing demo must fail CI. It debootstraps nothing new (the suite's real
// base is the same cached tarball) and its sysroot is a tmpfs in a private
// mount namespace of its own.

import { execa } from 'execa';
import { expect, inject, test } from 'vitest';

test('npm run demo runs to its end: install htop, status, history, htop --version, rollback, status', async () => {
  inject('realBase'); // the cached base tarball exists before the demo asks for it
  const r = await execa('sh', [new URL('./demo.sh', import.meta.url).pathname], {
    reject: false,
    all: true,
    env: { LC_ALL: 'C', DEBLAYER_DEMO_SKIP_SETUP: '1' },
    stdin: 'ignore',
  });
  const output = String(r.all);
  expect(r.exitCode, output.split('\n').slice(-30).join('\n')).toBe(0);
  expect(output).not.toMatch(/deblayer: (error|internal error)/);
  expect(output).toMatch(/^htop 3\./m);
  expect(output).toMatch(/^The default deployment is the base again \(.*\): it has no htop\.$/m);
  // history, run right after the install, recorded it as done.
  expect(output).toMatch(/install.*htop/);
}, 600_000);
