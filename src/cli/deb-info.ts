// deblayer deb info FILE.deb: the package's control information, like dpkg-deb -I.

import type { Command } from 'commander';
import type { DebControl, DebLayout } from '../deb/index.js';
import { contextOf } from './context.js';

/** The real number of lines, for --json (the text output copies dpkg's count, below). */
function lineCount(data: Buffer): number {
  let n = 0;
  for (const b of data) if (b === 0x0a) n++;
  return n;
}

const INTERPRETER_MAX = 200;
const isSpace = (c: number) => c === 0x20 || (c >= 0x09 && c <= 0x0d);

/**
 * The line count and interpreter dpkg-deb -I shows for a control member,
 * computed the way dpkg's info.c reads it: the first one or two bytes are
 * consumed while looking for '#!' and not counted, and the interpreter is the
 * first word after it.
 */
export function dpkgMemberSummary(data: Buffer): { lines: number; interpreter: string } {
  let i = 0;
  const get = () => (i < data.length ? data[i++]! : -1);
  let lines = 0;
  let interpreter = '';
  if (get() === 0x23 && get() === 0x21) {
    let c = get();
    while (c === 0x20) c = get();
    const bytes: number[] = [0x23, 0x21];
    while (bytes.length < INTERPRETER_MAX && c !== -1 && !isSpace(c)) {
      bytes.push(c);
      c = get();
    }
    interpreter = Buffer.from(bytes).toString('latin1');
    if (c === 0x0a) lines++;
  }
  for (let c = get(); c !== -1; c = get()) if (c === 0x0a) lines++;
  return { lines, interpreter };
}

/** The same layout as dpkg-deb -I, so the two can be compared by eye. */
function humanInfo(layout: DebLayout, control: DebControl): string[] {
  const out = [
    ` new Debian package, version ${layout.formatVersion}.`,
    ` size ${layout.size} bytes: control archive=${layout.control.size} bytes.`,
  ];
  const members = [...control.files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const f of members) {
    const exec = f.mode & 0o100 ? '*' : ' ';
    const { lines, interpreter } = dpkgMemberSummary(f.data);
    out.push(` ${String(f.data.length).padStart(7)} bytes, ${String(lines).padStart(5)} lines   ${exec}  ${f.name.padEnd(20)} ${interpreter}`);
  }
  for (const line of control.controlText.replace(/\n+$/, '').split('\n')) out.push(` ${line}`);
  return out;
}

export function jsonInfo(layout: DebLayout, control: DebControl): object {
  return {
    file: layout.file,
    size: layout.size,
    format: layout.formatVersion,
    controlMember: { name: layout.control.name, size: layout.control.size, compression: layout.control.compression },
    dataMember: { name: layout.data.name, size: layout.data.size, compression: layout.data.compression },
    control: control.fields,
    members: control.files.map((f) => ({
      name: f.name,
      mode: f.mode.toString(8).padStart(4, '0'),
      size: f.data.length,
      lines: lineCount(f.data),
    })),
    scripts: Object.keys(control.scripts),
    conffiles: control.conffiles,
    triggers: control.triggers,
    md5sums: control.md5sums.size,
  };
}

export function register(deb: Command): void {
  deb
    .command('info')
    .description('show the control information of a package (like dpkg-deb -I)')
    .argument('<file>', 'the .deb file')
    .action(async (file: string, _opts: unknown, cmd: Command) => {
      const out = contextOf(cmd);
      const { openDeb, readDebControl } = await import('../deb/index.js');
      const layout = openDeb(file);
      const control = await readDebControl(layout);
      if (out.json) out.data(jsonInfo(layout, control));
      else for (const line of humanInfo(layout, control)) out.result(line);
    });
}
