// A private mount namespace that deblayer holds open while it needs mounts
// (the overlay views of the scripts stage): unshare(1) and nsenter(1) are run
// only here. Node cannot unshare its own mount namespace, so a small holder
// process lives in the new one; commands are run in it with nsenter, and Node
// reaches the mounted views through /proc/PID/root. The holder reads its
// stdin: when deblayer exits or is killed, the pipe closes, the holder ends,
// and every mount made in the namespace goes with it: nothing leaks into the
// host's namespace (propagation private), even on a crash.

import { CommandError } from '../errors.js';
import { run, startLineProcess, type LineProcess, type RunOptions, type RunResult } from './run.js';

export class MountNamespace {
  private constructor(
    private readonly holder: LineProcess,
    readonly pid: number,
  ) {}

  static async open(): Promise<MountNamespace> {
    // unshare execs sh without forking: $$ is the holder's pid, in the new namespace.
    const holder = await startLineProcess('unshare', ['--mount', '--propagation', 'private', '--', 'sh', '-c', 'echo $$; read _ || true'], 'cannot create a private mount namespace');
    const line = await holder.nextLine();
    const pid = Number(line.trim());
    if (!Number.isInteger(pid) || pid <= 0) {
      holder.kill();
      throw new CommandError('unshare', `cannot create a private mount namespace: unexpected output '${line}'`);
    }
    return new MountNamespace(holder, pid);
  }

  /** Where Node sees PATH (absolute) as the namespace sees it, mounts included. */
  path(path: string): string {
    return `/proc/${this.pid}/root${path}`;
  }

  /** Runs PROGRAM in the namespace (it sees the mounts made there). */
  run(program: string, args: string[], what: string, options: RunOptions = {}): Promise<RunResult> {
    return run('nsenter', [`--target=${this.pid}`, '--mount', '--', program, ...args], what, options);
  }

  /** Ends the holder: the namespace and its mounts go away. */
  async close(): Promise<void> {
    try {
      await this.holder.finish();
    } catch {
      this.holder.kill();
    }
  }
}
