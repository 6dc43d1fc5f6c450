// Whether another process still runs: what tells a lock or a staging directory
// left by a killed deblayer from one in use.

/** True when PID names a running process (one of another user's counts: kill answers EPERM). */
export function processRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
