// Layer manifests (layers/*.layer): what an image builder layers on which
// base, in deb822 like Debian's own control and .sources files, so that one
// file can drive composing an image and (later) a host's layered set. Every
// error names the file and the line, as a person wrote them.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { deb822Lines, type Deb822Field } from '../vocabulary/deb822.js';
import { isLocalFile, isPackageSpec, isRefName } from '../vocabulary/packages.js';

export interface Manifest {
  /** The manifest file, absolute. */
  path: string;
  /** What the layer goes on: a ref or commit of the repository, or another manifest's result (layers stack). */
  base: { kind: 'ref'; ref: string } | { kind: 'manifest'; path: string };
  /** The ref the composed commit goes to. */
  branch: string;
  /** Package names and NAME=VERSION pins. */
  packages: string[];
  /** Local .deb files, absolute (written relative to the manifest). */
  localFiles: string[];
  /** deb822 .sources files for apt, absolute. */
  sources: string[];
  /** Packages whose maintainer scripts are not run (checked against the plan, as install --skip-scripts is). */
  skipScripts: string[];
  /** Metadata-KEY: VALUE fields, by KEY as written. */
  metadata: Record<string, string>;
  description?: string;
  /** sha256 of the file's bytes: names exactly what a commit was composed from. */
  digest: string;
}

export class ManifestError extends UsageError {}

const FIELDS = ['Base', 'Branch', 'Packages', 'Sources', 'Skip-Scripts', 'Description'];
const REQUIRED = ['Base', 'Branch'];

/** A comma-separated list, on one line or folded over several, as Debian's control files write them. */
function list(field: Deb822Field): string[] {
  return field.value
    .split(/[,\n]/)
    .map((x) => x.trim())
    .filter((x) => x !== '');
}

export function readManifest(path: string): Manifest {
  const absolute = resolve(path);
  let bytes: Buffer;
  try {
    bytes = readFileSync(absolute);
  } catch (err) {
    throw new ManifestError(`${path}: cannot read the layer manifest: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return parseManifest(bytes.toString('utf8'), absolute, path, createHash('sha256').update(bytes).digest('hex'));
}

/** TEXT as the manifest at PATH (absolute); SHOWN is how errors name the file. */
export function parseManifest(text: string, path: string, shown = path, digest = createHash('sha256').update(text).digest('hex')): Manifest {
  const fail = (line: number, why: string): never => {
    throw new ManifestError(`${shown}:${line}: ${why}`);
  };
  const parsed = deb822Lines(text);
  if (parsed.bad.length > 0) fail(parsed.bad[0]!.line, `'${parsed.bad[0]!.text.trim()}' is not a field (NAME: VALUE), a comment (#) or a continuation line`);
  if (parsed.paragraphs.length === 0) fail(1, 'no fields: a layer manifest needs at least Base and Branch');
  if (parsed.paragraphs.length > 1) fail(parsed.paragraphs[1]![0]!.line, 'a second paragraph: a layer manifest is one paragraph (no blank lines between fields)');
  const fields = new Map<string, Deb822Field>();
  const metadata: Record<string, string> = {};
  for (const f of parsed.paragraphs[0]!) {
    const known = FIELDS.find((n) => n.toLowerCase() === f.name.toLowerCase());
    const meta = /^metadata-(.+)$/i.exec(f.name);
    if (!known && !meta) fail(f.line, `unknown field '${f.name}' (fields: ${FIELDS.join(', ')}, Metadata-KEY)`);
    const key = known ?? f.name.toLowerCase();
    if (fields.has(key)) fail(f.line, `'${f.name}' given twice (first on line ${fields.get(key)!.line})`);
    fields.set(key, f);
    if (meta) metadata[meta[1]!] = f.value;
  }
  for (const n of REQUIRED) if (!fields.has(n)) fail(parsed.paragraphs[0]![0]!.line, `no ${n} field`);
  const here = dirname(path);
  const base = fields.get('Base')!;
  const branch = fields.get('Branch')!;
  if (base.value === '' || /\s/.test(base.value)) fail(base.line, `Base '${base.value}' is not a ref, a commit or a manifest (NAME.layer)`);
  if (!isRefName(branch.value)) fail(branch.line, `Branch '${branch.value}' is not an ostree ref (letters, digits, '.', '_', '-' and '/')`);
  const packages: string[] = [];
  const localFiles: string[] = [];
  const packagesField = fields.get('Packages');
  for (const p of packagesField ? list(packagesField) : []) {
    if (isLocalFile(p)) localFiles.push(resolve(here, p));
    else if (isPackageSpec(p)) packages.push(p);
    else fail(packagesField!.line, `'${p}' is not a package name (NAME, NAME=VERSION or NAME:ARCH), nor a path to a .deb file`);
  }
  const skipField = fields.get('Skip-Scripts');
  const skipScripts = skipField ? list(skipField) : [];
  const description = fields.get('Description')?.value;
  return {
    path,
    base: base.value.endsWith('.layer') ? { kind: 'manifest', path: resolve(here, base.value) } : { kind: 'ref', ref: base.value },
    branch: branch.value,
    packages,
    localFiles,
    sources: fields.get('Sources') ? list(fields.get('Sources')!).map((s) => resolve(here, s)) : [],
    skipScripts,
    metadata,
    ...(description !== undefined ? { description } : {}),
    digest,
  };
}
