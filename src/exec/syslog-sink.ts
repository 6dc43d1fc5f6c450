// The sandbox's /dev/log: a datagram socket that python3 (the only spawner is
// python.ts) listens on while maintainer scripts run. Scripts that hide a
// failure from dpkg often still log it (mariadb-server's postinst pipes
// mariadb-install-db's output into `logger -p daemon.err` under `set +e`);
// without a /dev/log, logger drops the message and exits 0, and the failure
// leaves no trace at all.

import { startPython } from './python.js';
import type { LineProcess } from './run.js';

export interface SyslogMessage {
  /** syslog severity: 0 emerg ... 3 err, 4 warning ... 7 debug. */
  severity: number;
  tag: string;
  text: string;
}

/** One datagram as logger(1) and syslog(3) send it: <PRI>[TIMESTAMP ]TAG[[PID]]: TEXT (RFC 5424's form too). */
export function parseSyslog(datagram: string): SyslogMessage {
  const pri = /^<(\d{1,3})>/.exec(datagram);
  const severity = pri ? Number(pri[1]) & 7 : 6;
  let rest = pri ? datagram.slice(pri[0].length) : datagram;
  const rfc5424 = /^1 \S+ \S+ (\S+) \S+ \S+ (?:-|\[.*?\]) ?([\s\S]*)$/.exec(rest);
  if (rfc5424) return { severity, tag: rfc5424[1]!, text: rfc5424[2]!.trim() };
  rest = rest.replace(/^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d /, '');
  const tagged = /^([^\s:[]+)(?:\[\d+\])?: ([\s\S]*)$/.exec(rest);
  return tagged ? { severity, tag: tagged[1]!, text: tagged[2]!.trim() } : { severity, tag: '', text: rest.trim() };
}

export class SyslogSink {
  private constructor(
    private readonly process: LineProcess,
    /** The socket, to bind at /dev/log in the sandbox. */
    readonly socket: string,
  ) {}

  /** Listens on DIR/log. */
  static async open(dir: string): Promise<SyslogSink> {
    const p = await startPython('syslog_sink.py', [dir], `cannot listen on ${dir}/log for the scripts' syslog`);
    await p.nextLine();
    return new SyslogSink(p, `${dir}/log`);
  }

  /** Stops listening; returns every message received. */
  async close(): Promise<SyslogMessage[]> {
    await this.process.finish();
    const out: SyslogMessage[] = [];
    for (;;) {
      let line: string;
      try {
        line = await this.process.nextLine();
      } catch {
        return out;
      }
      out.push(parseSyslog(JSON.parse(line) as string));
    }
  }

  kill(): void {
    this.process.kill();
  }
}
