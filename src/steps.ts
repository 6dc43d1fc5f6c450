// The named steps of a long operation (import, install, image), reported as
// each starts and with the seconds it took: the CLI shows them as progress,
// and the seconds with --verbose.

export interface StepHooks<S extends string> {
  onStart?: (step: S, detail?: string) => void;
  onStep?: (step: S, seconds: number) => void;
}

export async function timedStep<S extends string, T>(hooks: StepHooks<S>, step: S, fn: () => Promise<T>, detail?: string): Promise<T> {
  hooks.onStart?.(step, detail);
  const start = process.hrtime.bigint();
  const value = await fn();
  hooks.onStep?.(step, Number(process.hrtime.bigint() - start) / 1e9);
  return value;
}
