// Every failure deblayer reports to a user is one of these. The message is the
// one line the CLI prints; `detail` is what --verbose adds (a command's output,
// an underlying errno, ...). Code outside src/cli throws these instead of
// printing, so the CLI decides once how errors look.

/**
 * Exit statuses, one per kind of failure a script may want to tell apart
 * (documented in the man page, EXIT STATUS). Anything else is 1.
 */
export const EXIT = {
  failure: 1,
  usage: 2,
  notSysroot: 3,
  notRoot: 4,
  unresolvable: 5,
  fileConflict: 6,
  baseTooOld: 7,
  network: 8,
  diskFull: 9,
  internal: 70,
  locked: 75,
  unchanged: 77,
} as const;

export class DeblayerError extends Error {
  /** Extra context shown with --verbose. */
  readonly detail: string | undefined;
  /** Process exit status the CLI uses for this error. */
  readonly exitCode: number;

  constructor(message: string, options: { detail?: string; cause?: unknown; exitCode?: number } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.detail = options.detail;
    this.exitCode = options.exitCode ?? 1;
  }
}

/** A .deb file that is not a well-formed Debian binary package. */
export class DebFormatError extends DeblayerError {
  constructor(
    readonly file: string,
    problem: string,
    options: { detail?: string; cause?: unknown } = {},
  ) {
    super(`${file}: ${problem}`, options);
  }
}

/** An archive entry that would land outside the target, or through a symlink. */
export class UnsafePathError extends DeblayerError {
  constructor(
    readonly file: string,
    readonly entry: string,
    problem: string,
  ) {
    super(`${file}: refusing entry '${entry}': ${problem}`);
  }
}

/** Package content that an OSTree commit cannot carry and deblayer cannot map. */
export class LayerMappingError extends DeblayerError {
  constructor(
    readonly packageName: string,
    readonly entry: string,
    problem: string,
  ) {
    super(`package ${packageName}: cannot layer '/${entry}': ${problem}`);
  }
}

/** A filesystem operation on the target tree failed. */
export class UnpackError extends DeblayerError {
  constructor(
    readonly file: string,
    readonly entry: string,
    cause: unknown,
  ) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(`${file}: cannot unpack '${entry}': ${reason}`, { cause });
  }
}

/** An external program failed (wrapped by the module that runs it). */
export class CommandError extends DeblayerError {
  constructor(
    readonly command: string,
    /** What went wrong, without the command's name. */
    readonly reason: string,
    options: { detail?: string; cause?: unknown; exitCode?: number } = {},
  ) {
    super(`${command}: ${reason}`, options);
  }
}

/** Wrong use of the command line: unknown option, missing argument. */
export class UsageError extends DeblayerError {
  constructor(message: string) {
    super(message, { exitCode: EXIT.usage });
  }
}

type ErrorOptions = { detail?: string; cause?: unknown };

/** Not an OSTree sysroot, or one without deployments. */
export class NotASysrootError extends DeblayerError {
  constructor(message: string, options: ErrorOptions = {}) {
    super(message, { ...options, exitCode: EXIT.notSysroot });
  }
}

/** Changing deployments needs root. */
export class NotRootError extends DeblayerError {
  constructor(what: string) {
    super(`${what} changes the sysroot's deployments and needs root: run it as root (or with sudo)`, { exitCode: EXIT.notRoot });
  }
}

export function requireRoot(what: string): void {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) throw new NotRootError(what);
}

/** A maintainer script failed: the transaction stops, nothing is deployed. */
export class ScriptError extends DeblayerError {
  constructor(
    readonly packageName: string,
    readonly script: string,
    readonly status: number | undefined,
    lastLines: string,
    options: { detail?: string } = {},
  ) {
    super(
      `package ${packageName}: its ${script} script failed${status !== undefined ? ` with exit status ${status}` : ''}${lastLines ? `: ${lastLines}` : ''} (nothing was deployed; --skip-scripts ${packageName} layers it without running its scripts)`,
      options,
    );
  }
}
