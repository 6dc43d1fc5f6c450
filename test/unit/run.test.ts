// run(), the one helper that starts programs: what a command's errors say when
// a program fails, is missing or is killed, and what it hands back.

import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CommandError } from '../../src/errors.js';
import { run } from '../../src/exec/run.js';

describe('run', () => {
  it('returns stdout as text and bytes, with the environment added to the inherited one', async () => {
    const r = await run('sh', ['-c', 'printf "%s %s\\n" "$X" "${PATH:+path}"'], 'printing', { env: { X: 'é' } });
    expect(r).toMatchObject({ exitCode: 0, stdout: 'é path\n', stderr: '', command: 'sh -c printf "%s %s\\n" "$X" "${PATH:+path}"' });
    expect(r.stdoutBytes.equals(Buffer.from('é path\n'))).toBe(true);
  });

  it('gives input on stdin, closes stdin otherwise, and keeps bytes as they are with binary', async () => {
    expect((await run('cat', [], 'copying', { input: 'in\n' })).stdout).toBe('in\n');
    expect((await run('cat', [], 'copying')).stdout).toBe('');
    const bytes = Buffer.from([0xff, 0x00, 0x0a]);
    const r = await run('cat', [], 'copying', { input: bytes, binary: true });
    expect(r.stdout).toBe('');
    expect(r.stdoutBytes.equals(bytes)).toBe(true);
  });

  it('runs in cwd and hands each line to onLine as it comes', async () => {
    const lines: string[] = [];
    const r = await run('sh', ['-c', 'pwd; echo err >&2'], 'listing', { cwd: '/usr', onLine: (l, s) => lines.push(`${s}:${l}`) });
    expect(r.stdout).toBe('/usr\n');
    expect(lines.sort()).toEqual(['stderr:err', 'stdout:/usr']);
  });

  it('fails with what was being done and the tail of stderr, the command line in the detail', async () => {
    const err = await run('sh', ['-c', 'echo one >&2; echo two >&2; exit 3'], 'cannot do it').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandError);
    expect((err as CommandError).message).toBe('sh: cannot do it: one / two');
    expect((err as CommandError).detail).toBe("command: sh -c echo one >&2; echo two >&2; exit 3\none\ntwo\n");
    const quiet = await run('sh', ['-c', 'exit 4'], 'cannot do it').catch((e: unknown) => e);
    expect((quiet as Error).message).toBe('sh: cannot do it: exit status 4');
    expect((await run('sh', ['-c', 'exit 5'], 'x', { allowFailure: true })).exitCode).toBe(5);
  });

  it('names a program that is not there, and one killed by a signal', async () => {
    const missing = await run('deblayer-no-such-program', ['a'], 'cannot start it').catch((e: unknown) => e);
    expect((missing as Error).message).toBe('deblayer-no-such-program: cannot start it: Command failed with ENOENT: deblayer-no-such-program a\nspawn deblayer-no-such-program ENOENT');
    const killed = await run('sh', ['-c', 'kill -KILL $$'], 'cannot finish').catch((e: unknown) => e);
    expect((killed as Error).message).toMatch(/^sh: cannot finish: Command was killed with SIGKILL/);
    expect((await run('deblayer-no-such-program', [], 'x', { allowFailure: true })).exitCode).toBe(-1);
  });
});

describe('startLineProcess', () => {
  it('ends a helper left unused when Node exits: it does not go on working after deblayer has exited', async () => {
    // A helper that, once its input closes, would keep running for 30 s (as an unused libapt helper kept building apt's cache).
    const runJs = new URL('../../dist/exec/run.js', import.meta.url).href;
    const script = `import { startLineProcess } from '${runJs}';
const p = await startLineProcess('sh', ['-c', 'echo $$; read x; sleep 30'], 'waiting');
console.log(await p.nextLine());
p.hold(false);`;
    const r = await run(process.execPath, ['--input-type=module', '-e', script], 'a node that starts a helper');
    const pid = r.stdout.trim();
    expect(pid).toMatch(/^\d+$/);
    for (let i = 0; i < 40 && existsSync(`/proc/${pid}`); i++) await new Promise((done) => setTimeout(done, 50));
    expect(existsSync(`/proc/${pid}`), `helper ${pid} still runs`).toBe(false);
  });
});
