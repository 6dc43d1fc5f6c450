// The .deb reading stage on its own: layout, typed control record, control
// members and scripts, and the same entries whatever the compression.

import { describe, expect, inject, it } from 'vitest';
import { openDeb, readDataEntries, readDebControl } from '../src/deb/index.js';
import { parseControlFields, parseRelations } from '../src/deb/control-fields.js';

const fixtures = inject('fixtures');

describe('control fields', () => {
  it('parses relationship fields into alternatives with versions and arch qualifiers', () => {
    expect(parseRelations('Depends', 'libc6 (>= 2.34), debconf (>= 0.5) | debconf-2.0, adduser:any, foo (<< 1:2.0~rc1)')).toEqual([
      [{ name: 'libc6', op: '>=', version: '2.34' }],
      [{ name: 'debconf', op: '>=', version: '0.5' }, { name: 'debconf-2.0' }],
      [{ name: 'adduser', arch: 'any' }],
      [{ name: 'foo', op: '<<', version: '1:2.0~rc1' }],
    ]);
    expect(parseRelations('Depends', 'old (< 1)')).toEqual([[{ name: 'old', op: '<=', version: '1' }]]);
    expect(() => parseRelations('Depends', 'bad name!')).toThrow("field Depends: cannot parse 'bad name!'");
  });

  it('reads multi-line descriptions and keeps every field as text', () => {
    const f = parseControlFields('Package: pk\nVersion: 1\nDescription: short\n long line one\n .\n second paragraph\nX-Custom: yes\n');
    expect(f.summary).toBe('short');
    expect(f.description).toBe('short\nlong line one\n.\nsecond paragraph');
    expect(f.fields['X-Custom']).toBe('yes');
    expect(f.essential).toBe(false);
    expect(f.multiArch).toBe('no');
  });

  it('requires Package and Version', () => {
    expect(() => parseControlFields('Version: 1\n')).toThrow('control file has no Package field');
    expect(() => parseControlFields('Package: pk\n')).toThrow('control file of pk has no Version field');
    expect(() => parseControlFields('Package: ../x\nVersion: 1\n')).toThrow("invalid package name '../x'");
  });
});

describe('reading the all-types fixture', () => {
  it('gives a typed control record', async () => {
    const control = await readDebControl(openDeb(fixtures.all!.xz!));
    const f = control.fields;
    expect(f.package).toBe('deblayer-fixture-all');
    expect(f.version).toBe('1:1.0~rc1-2+b1');
    expect(f.architecture).toBe('all');
    expect(f.installedSize).toBe(3200);
    expect(f.multiArch).toBe('foreign');
    expect(f.preDepends).toEqual([[{ name: 'dpkg', op: '>=', version: '1.19.0' }]]);
    expect(f.depends[1]).toEqual([{ name: 'debconf', op: '>=', version: '0.5' }, { name: 'debconf-2.0' }]);
    expect(f.breaks).toEqual([[{ name: 'deblayer-fixture-minimal', op: '<<', version: '0.5' }]]);
    expect(f.replaces).toEqual(f.breaks);
    expect(f.provides).toEqual([[{ name: 'deblayer-virtual', op: '=', version: '1.0' }]]);
    expect(f.conflicts).toEqual([[{ name: 'deblayer-fixture-old' }]]);
    expect(f.suggests).toEqual([[{ name: 'deblayer-doc' }], [{ name: 'deblayer-extras', arch: 'any', op: '>>', version: '0.9' }]]);
    expect(f.summary).toBe('fixture covering every entry type dpkg accepts');
  });

  it('keeps md5sums, conffiles, triggers, shlibs and scripts with their modes', async () => {
    const control = await readDebControl(openDeb(fixtures.all!.xz!));
    expect(control.md5sums.get('/usr/share/deblayer-fixture/empty')).toBe('d41d8cd98f00b204e9800998ecf8427e');
    expect(control.conffiles).toEqual([
      { path: '/etc/deblayer-fixture/main.conf', flags: [] },
      { path: '/etc/deblayer-fixture/secret.conf', flags: [] },
    ]);
    expect(control.triggers).toEqual([
      { directive: 'interest-noawait', name: '/usr/share/deblayer-fixture/plugins' },
      { directive: 'activate-noawait', name: 'ldconfig' },
    ]);
    expect(control.shlibs).toContain('libdeblayerfixture 1');
    expect(Object.keys(control.scripts).sort()).toEqual(['config', 'postinst', 'postrm', 'preinst', 'prerm']);
    for (const script of Object.values(control.scripts)) {
      expect(script!.mode).toBe(0o755);
      expect(script!.data.subarray(0, 9).toString()).toBe('#!/bin/sh');
    }
  });

  it('reads the same entries from every compression', async () => {
    const listings: string[][] = [];
    for (const [comp, path] of Object.entries(fixtures.all!)) {
      const layout = openDeb(path!);
      expect(layout.data.compression).toBe(comp);
      const lines: string[] = [];
      for await (const { entry, body } of readDataEntries(layout)) {
        let size = 0;
        await body.consume((chunk) => (size += chunk.length));
        expect(size).toBe(entry.size);
        lines.push(`${entry.type} ${entry.path} ${entry.mode.toString(8)} ${entry.uid}:${entry.gid} ${entry.size} ${entry.linkTarget ?? ''}`);
      }
      listings.push(lines);
    }
    expect(listings).toHaveLength(4);
    for (const l of listings) expect(l).toEqual(listings[0]);
    const types = new Set(listings[0]!.map((l) => l.split(' ')[0]));
    expect([...types].sort()).toEqual(['block-device', 'char-device', 'directory', 'fifo', 'file', 'hardlink', 'symlink']);
  });
});
