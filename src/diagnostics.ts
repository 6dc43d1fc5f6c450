// Failures that a command survives (a best-effort cleanup that did not work,
// a file that could not be read and was taken as absent) are never silent:
// core code reports them here, and the CLI shows them with --verbose. Core
// code does not print, so the sink is the CLI's to set.

type Sink = (line: string) => void;

let sink: Sink | undefined;

/** Where diagnostics go (the CLI's --verbose output); undefined drops them. */
export function setDiagnosticSink(to: Sink | undefined): void {
  sink = to;
}

/** Reports something that went wrong without stopping the command. */
export function diagnose(line: string): void {
  sink?.(line);
}

/** The message of an error, for a diagnostic line. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
