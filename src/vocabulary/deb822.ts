// deb822 text (control files, dpkg's status, apt's lists; deb822(5)): the one
// reader for paragraphs whose fields deblayer copies or looks up. Typed
// parsing of a .deb's control file is src/deb/control-fields.ts's.

/**
 * The fields of one paragraph in order, each value as written: the first
 * line trimmed, continuation lines kept whole after a '\n', so that writing
 * `NAME: VALUE` back gives dpkg the same field.
 */
export function rawFields(text: string): [string, string][] {
  const fields: [string, string][] = [];
  for (const line of text.replace(/\n+$/, '').split('\n')) {
    if ((line.startsWith(' ') || line.startsWith('\t')) && fields.length > 0) fields[fields.length - 1]![1] += `\n${line}`;
    else {
      const i = line.indexOf(':');
      if (i > 0) fields.push([line.slice(0, i), line.slice(i + 1).trim()]);
    }
  }
  return fields;
}

/** The raw value of field NAME in a paragraph, or undefined. */
export function rawField(text: string, name: string): string | undefined {
  return rawFields(text).find(([n]) => n === name)?.[1];
}

/** Splits deb822 text into paragraphs of fields (continuation lines joined with '\n', their first character dropped). */
export function parseParagraphs(text: string): Record<string, string>[] {
  const paragraphs: Record<string, string>[] = [];
  let block: string[] = [];
  const end = () => {
    const fields = rawFields(block.join('\n'));
    if (fields.length > 0) paragraphs.push(Object.fromEntries(fields.map(([n, v]) => [n, v.replace(/\n./g, '\n')])));
    block = [];
  };
  for (const line of text.split('\n')) {
    if (line.trim() === '') end();
    else block.push(line);
  }
  end();
  return paragraphs;
}

/** A field of a deb822 file as written, and the line (1-based) its name is on. */
export interface Deb822Field {
  name: string;
  /** The first line trimmed; continuation lines follow after '\n', trimmed. */
  value: string;
  line: number;
}

export interface Deb822Text {
  paragraphs: Deb822Field[][];
  /** Lines that are neither a field, a continuation, a comment nor blank: for readers that refuse them. */
  bad: { line: number; text: string }[];
}

/**
 * A deb822 file for readers that say where something is wrong (files people
 * write, such as layer manifests): '#' lines are comments, blank lines end a
 * paragraph, every field keeps its line number.
 */
export function deb822Lines(text: string): Deb822Text {
  const out: Deb822Text = { paragraphs: [], bad: [] };
  let current: Deb822Field[] | undefined;
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '') {
      current = undefined;
      return;
    }
    if (line.startsWith('#')) return;
    if ((line.startsWith(' ') || line.startsWith('\t')) && current && current.length > 0) {
      const last = current[current.length - 1]!;
      last.value += `\n${line.trim() === '.' ? '' : line.trim()}`;
      return;
    }
    const colon = line.indexOf(':');
    if (colon <= 0 || /\s/.test(line.slice(0, colon))) {
      out.bad.push({ line: i + 1, text: line });
      return;
    }
    if (!current) out.paragraphs.push((current = []));
    current.push({ name: line.slice(0, colon), value: line.slice(colon + 1).trim(), line: i + 1 });
  });
  return out;
}
