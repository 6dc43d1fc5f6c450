// One line per path: systemd-tmpfiles uses the first line it reads for a path
// and warns about the others. What the scripts made in /var is newer than what
// the packages (and the base) ship there, so the lines deblayer wrote for the
// packages that name a path the scripts changed are taken out of their
// fragments (the fragments are rewritten in the layer). Adjusting lines (z)
// go with creating ones and are left alone.

import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { declaredLines, formatTmpfilesConf, formatTmpfilesLine, makesDirectory, type TmpfilesLine } from '../vocabulary/tmpfiles.js';
import { overlaidFiles } from './diff.js';

const CREATING = /^[fFwdDvqQpLcbC]\+?!?$/;

/** Rewrites into LAYER_USR the deblayer-*.conf fragments of LOWER_USR that have lines for paths of LINES. */
export function dropSupersededLines(lowerUsr: string, layerUsr: string, lines: TmpfilesLine[], except: string): string[] {
  const paths = new Set(lines.filter((l) => l.type !== 'z').map((l) => formatTmpfilesLine(l).split(' ')[1]!));
  const dir = 'lib/tmpfiles.d';
  const rewritten: string[] = [];
  if (paths.size === 0 || !existsSync(join(lowerUsr, dir))) return rewritten;
  for (const name of readdirSync(join(lowerUsr, dir))) {
    if (!/^deblayer-.*\.conf$/.test(name) || `${dir}/${name}` === except) continue;
    const text = readFileSync(join(lowerUsr, dir, name), 'utf8');
    const kept = text.split('\n').filter((line) => {
      const [type, path] = line.trim().split(/\s+/);
      return !(type && path && !line.startsWith('#') && CREATING.test(type) && paths.has(path));
    });
    if (kept.length === text.split('\n').length) continue;
    writeFileSync(join(layerUsr, dir, name), kept.join('\n'), { mode: 0o644 });
    rewritten.push(name);
  }
  return rewritten;
}

/**
 * The directories the tree's tmpfiles.d files declare, deblayer's own
 * fragments aside: the packages' word on them, which applies at boot.
 */
export function declaredDirectories(lowerUsr: string, upperUsr: string): Set<string> {
  const dirs = new Set<string>();
  for (const [, text] of overlaidFiles(lowerUsr, upperUsr, 'lib/tmpfiles.d', (n) => n.endsWith('.conf') && !n.startsWith('deblayer-'))) {
    for (const l of declaredLines(text)) if (makesDirectory(l.type)) dirs.add(l.path);
  }
  return dirs;
}

const SCRIPTS_HEADER = "Written by deblayer: what the layered packages' scripts made under /var.";

/**
 * The scripts' tmpfiles.d file: PREVIOUS's lines (what scripts made before,
 * in the commit they ran over) except those for paths the new LINES name or
 * the scripts DELETED, then LINES. Undefined when no line is left and there
 * was no file.
 */
export function mergeScriptsTmpfiles(previous: string, lines: TmpfilesLine[], deleted: string[]): string | undefined {
  const replaced = new Set([...lines.map((l) => formatTmpfilesLine(l).split(' ')[1]!), ...deleted.map((p) => formatTmpfilesLine({ type: 'd', path: p }).split(' ')[1]!)]);
  const kept = previous.split('\n').filter((line) => {
    const [type, path] = line.trim().split(/\s+/);
    return type !== undefined && type !== '' && !type.startsWith('#') && path !== undefined && !replaced.has(path);
  });
  if (kept.length === 0 && lines.length === 0 && previous === '') return undefined;
  const text = formatTmpfilesConf(SCRIPTS_HEADER, lines);
  return kept.length === 0 ? text : text.replace(/\n/, `\n${kept.join('\n')}\n`);
}
