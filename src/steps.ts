// The named steps of a long operation (import, install, image), reported as
// each starts and with the seconds it took: the CLI shows them as progress,
// and the seconds with --verbose.

export interface StepHooks<S extends string> {
  onStart?: (step: S, detail?: string) => void;
  onStep?: (step: S, seconds: number) => void;
  /** How far a long step is: DONE of TOTAL items, the last one WHAT (a meter on a terminal). */
  onCount?: (step: S, done: number, total: number, what?: string) => void;
}

/** A clock started now: each call gives the seconds since. */
export function stopwatch(): () => number {
  const start = process.hrtime.bigint();
  return () => Number(process.hrtime.bigint() - start) / 1e9;
}

export async function timedStep<S extends string, T>(hooks: StepHooks<S>, step: S, fn: () => Promise<T>, detail?: string): Promise<T> {
  hooks.onStart?.(step, detail);
  const elapsed = stopwatch();
  const value = await fn();
  hooks.onStep?.(step, elapsed());
  return value;
}
