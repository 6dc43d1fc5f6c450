// dpkg's output during --configure --pending, with its --status-fd lines in the
// same stream: split by package for the transaction log, and the first error
// turned into the package, the script, its exit status and its last lines.

export interface PackageOutput {
  package: string;
  /** 'preinst', 'configure' or 'trigproc'. */
  step: string;
  lines: string[];
}

export interface DpkgFailure {
  package: string;
  script: string;
  status?: number;
  message: string;
  /** The last lines printed before the error: what the script said. */
  lastLines: string;
}

const SCRIPT_NAMES: [RegExp, string][] = [
  [/post-installation script/, 'postinst'],
  [/pre-installation script/, 'preinst'],
  [/pre-removal script/, 'prerm'],
  [/post-removal script/, 'postrm'],
];

export class DpkgOutput {
  readonly sections: PackageOutput[] = [];
  readonly failures: DpkgFailure[] = [];
  private current: PackageOutput = { package: '', step: 'dpkg', lines: [] };

  constructor() {
    this.sections.push(this.current);
  }

  line(text: string): void {
    const processing = /^processing: (\S+): (\S+)$/.exec(text);
    if (processing) {
      this.switchTo(processing[2]!, processing[1]!);
      return;
    }
    // dpkg writes its status lines straight to the fd, but its own messages
    // through a buffered stdout, flushed only when it runs a script: "Setting
    // up X" of a package without a postinst arrives after the next package's
    // status line. The message itself names the package it belongs to.
    const announced = /^(Setting up|Processing triggers for) (\S+) \(/.exec(text);
    if (announced) this.switchTo(announced[2]!, announced[1] === 'Setting up' ? 'configure' : 'trigproc');
    const error = /^status: (\S+) ?: error : (.*)$/.exec(text);
    if (error) {
      const message = error[2]!;
      const script = SCRIPT_NAMES.find(([re]) => re.test(message))?.[1] ?? (/trigger/.test(message) ? 'postinst' : 'dpkg');
      const status = /exit status (\d+)/.exec(message);
      const pkg = error[1]!.replace(/:.*$/, '');
      this.failures.push({ package: pkg, script, ...(status ? { status: Number(status[1]) } : {}), message, lastLines: this.lastLines(pkg) });
      return;
    }
    if (/^status: /.test(text)) return;
    this.current.lines.push(text);
  }

  private switchTo(pkg: string, step: string): void {
    const name = pkg.replace(/:.*$/, '');
    if (this.current.package === name && this.current.step === step) return;
    this.current = { package: name, step, lines: [] };
    this.sections.push(this.current);
  }

  /** The last meaningful lines a package's scripts printed (dpkg's own error lines left out). */
  lastLines(pkg: string, count = 3): string {
    const section = [...this.sections].reverse().find((s) => s.package === pkg);
    return (section?.lines ?? [])
      .map((l) => l.trim())
      .filter((l) => l !== '' && !/^dpkg: |^Setting up |^Processing triggers for |^Errors were encountered|^ (installed|\S+ package) /.test(l) && !/subprocess returned error exit status/.test(l))
      .slice(-count)
      .join(' / ');
  }

  /** Everything but dpkg's status lines, as one text. */
  text(): string {
    return this.sections.flatMap((s) => s.lines).join('\n');
  }
}
