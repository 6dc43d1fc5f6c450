// With DEBLAYER_TRACE=1 in the environment, every program deblayer runs (and
// every request to its libostree worker) is printed on stderr with when it
// started and how long it took, so a slow transaction can be read as a
// timeline, and each command line pasted to run by hand.

const enabled = process.env.DEBLAYER_TRACE === '1';
const origin = performance.timeOrigin;

function stamp(): string {
  return `${((performance.timeOrigin - origin + performance.now()) / 1000).toFixed(3)}s`;
}

/** Marks a program's start; the function returned marks its end. */
export function traceCommand(program: string, args: readonly string[]): () => void {
  if (!enabled) return () => {};
  const started = performance.now();
  const line = [program, ...args].map((a) => (/^[\w./:=@%+,-]*$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
  process.stderr.write(`deblayer-trace: ${stamp()} start ${line.length > 300 ? `${line.slice(0, 300)}...` : line}\n`);
  return () => process.stderr.write(`deblayer-trace: ${stamp()} end (${((performance.now() - started) / 1000).toFixed(3)} s) ${program} ${args[0] ?? ''}\n`);
}
