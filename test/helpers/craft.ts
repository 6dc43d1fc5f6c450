// Hand-made .deb files for the cases dpkg-deb --build refuses to make:
// hostile paths, broken containers, odd member layouts.

import { execa } from 'execa';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';

export interface CraftEntry {
  name: string;
  type?: 'file' | 'directory' | 'symlink' | 'link';
  linkname?: string;
  data?: string;
  mode?: number;
}

export async function tarOf(entries: CraftEntry[], format: 'gnu' | 'pax' = 'gnu'): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c) => {
    chunks.push(c as Buffer);
  });
  const done = new Promise<void>((resolve) => pack.on('end', () => resolve()));
  for (const e of entries) {
    const type = e.type ?? 'file';
    const header = {
      name: e.name,
      type,
      mode: e.mode ?? (type === 'directory' ? 0o755 : 0o644),
      mtime: new Date(1600000000 * 1000),
      uid: 0,
      gid: 0,
      uname: 'root',
      gname: 'root',
      ...(e.linkname !== undefined ? { linkname: e.linkname } : {}),
      ...(format === 'pax' ? { pax: { comment: 'pax' } } : {}),
    };
    if (type === 'file') pack.entry(header, Buffer.from(e.data ?? ''));
    else pack.entry(header);
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

export const CONTROL = 'Package: hostile\nVersion: 1.0\nArchitecture: all\nMaintainer: t <t@t.invalid>\nDescription: crafted\n';

export async function controlTarGz(control = CONTROL): Promise<Buffer> {
  return gzipSync(await tarOf([{ name: './', type: 'directory' }, { name: './control', data: control }]));
}

/** Assemble an ar archive with the real ar(1), members in the given order. */
export async function arOf(out: string, members: { name: string; data: Buffer | string }[]): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'deblayer-craft-'));
  try {
    for (const m of members) writeFileSync(join(dir, m.name), m.data);
    await execa('ar', ['rcD', out, ...members.map((m) => m.name)], { cwd: dir });
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A .deb whose data.tar (gzip) holds the given entries. */
export async function debWithData(out: string, entries: CraftEntry[]): Promise<string> {
  return arOf(out, [
    { name: 'debian-binary', data: '2.0\n' },
    { name: 'control.tar.gz', data: await controlTarGz() },
    { name: 'data.tar.gz', data: gzipSync(await tarOf(entries)) },
  ]);
}
