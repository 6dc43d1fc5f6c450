// Small unit tests on the text deblayer reads from ostree and apt, and the
// files it writes for apt, with outputs captured from the real tools.

import { describe, expect, test } from 'vitest';
import { notUpgradedCount, parseAutoInstall, parseSimulation, parseUnmet } from '../../src/apt/resolve.js';
import { aptSize, archiveFileName } from '../../src/apt/plan.js';
import { rewriteSignedBy, signedByPaths } from '../../src/apt/sources.js';
import { holdAll, parseStatus } from '../../src/base/dpkg-status.js';
import { parseOsRelease } from '../../src/base/os-release.js';
import { parseAdminStatus, parseLsLine, parseRawCommit, parseRemoteSummary } from '../../src/exec/ostree.js';

describe('apt output', () => {
  test('simulation lines: new packages, upgrades and removals', () => {
    const out = [
      'NOTE: This is only a simulation!',
      'Inst libnl-3-200 (3.7.0-0.2+b1 Debian:12.15/oldstable [amd64])',
      'Inst libc6 [2.36-9] (2.36-9+deb12u14 Debian:12.15/oldstable, Debian-Security:12/oldstable-security [amd64])',
      'Inst libfoo:i386 (1.0 localhost [i386])',
      'Remv oldpkg [1.2]',
      'Conf libnl-3-200 (3.7.0-0.2+b1 Debian:12.15/oldstable [amd64])',
    ].join('\n');
    expect(parseSimulation(out)).toEqual([
      { action: 'Inst', name: 'libnl-3-200', version: '3.7.0-0.2+b1', origin: 'Debian:12.15/oldstable', architecture: 'amd64' },
      {
        action: 'Inst',
        name: 'libc6',
        oldVersion: '2.36-9',
        version: '2.36-9+deb12u14',
        origin: 'Debian:12.15/oldstable, Debian-Security:12/oldstable-security',
        architecture: 'amd64',
      },
      { action: 'Inst', name: 'libfoo', version: '1.0', origin: 'localhost', architecture: 'i386' },
      { action: 'Remv', name: 'oldpkg', version: '1.2', origin: '', architecture: '' },
    ]);
  });

  test("the summary's count of packages not upgraded, with or without downgrades", () => {
    const sim = (summary: string) => ['NOTE: This is only a simulation!', 'The following NEW packages will be installed:', '  htop', summary, 'Inst htop (3.2.2-2 Debian:12.15/oldstable [amd64])'].join('\n');
    expect(notUpgradedCount(sim('0 upgraded, 1 newly installed, 0 to remove and 17 not upgraded.'))).toBe(17);
    expect(notUpgradedCount(sim('0 upgraded, 0 newly installed, 1 downgraded, 0 to remove and 2 not upgraded.'))).toBe(2);
    expect(notUpgradedCount('NOTE: This is only a simulation!\n')).toBeUndefined();
  });

  test('AutoInstall debug lines say which package pulled each dependency in', () => {
    const err = [
      '  Installing libnl-3-200:amd64 as Depends of htop:amd64',
      '  Installing libgpm2:amd64 as Recommends of libncursesw6:amd64',
      '  Installing tzdata:all as PreDepends of foo:amd64',
      '  Installing libnl-3-200:amd64 as Depends of other:amd64',
    ].join('\n');
    const r = parseAutoInstall(err, 'amd64');
    expect(Object.fromEntries(r)).toEqual({
      'libnl-3-200': { by: 'htop', relation: 'Depends' },
      libgpm2: { by: 'libncursesw6', relation: 'Recommends' },
      tzdata: { by: 'foo', relation: 'PreDepends' },
    });
  });

  test('unmet dependencies, with continuation lines', () => {
    const out = [
      'The following packages have unmet dependencies:',
      ' curl : Depends: libcurl4 (= 7.88.1-10+deb12u15) but 7.88.1-10+deb12u14 is to be installed',
      '        Depends: libssl3 (>= 3.1) but 3.0.15-1~deb12u1 is installed',
      ' foo : Breaks: bar (< 2)',
      'E: Unable to correct problems, you have held broken packages.',
    ].join('\n');
    expect(parseUnmet(out)).toEqual([
      { package: 'curl', relation: 'Depends', target: 'libcurl4 (= 7.88.1-10+deb12u15)', why: '7.88.1-10+deb12u14 is to be installed' },
      { package: 'curl', relation: 'Depends', target: 'libssl3 (>= 3.1)', why: '3.0.15-1~deb12u1 is installed' },
      { package: 'foo', relation: 'Breaks', target: 'bar (< 2)', why: '' },
    ]);
  });

  test("sizes as apt's SizeToStr prints them, and cache file names with epochs", () => {
    expect([0, 999, 9999, 10_000, 63_100, 152_000, 1_101_000, 41_500_000].map(aptSize)).toEqual([
      '0 B',
      '999 B',
      '9999 B',
      '10.0 kB',
      '63.1 kB',
      '152 kB',
      '1101 kB',
      '41.5 MB',
    ]);
    expect(archiveFileName({ name: 'fx-epoch', version: '1:2.0-1', architecture: 'all' })).toBe('fx-epoch_1%3a2.0-1_all.deb');
  });
});

describe('sources', () => {
  test('Signed-By paths in one-line and deb822 sources are found and rewritten', () => {
    const oneLine = 'deb [arch=amd64 signed-by=/usr/share/keyrings/a.gpg] http://x/debian bookworm main\n# deb [signed-by=/no] http://y ./\ndeb http://z bookworm main\n';
    const deb822 = 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n';
    const inline = 'Types: deb\nURIs: http://x\nSuites: ./\nSigned-By:\n -----BEGIN PGP PUBLIC KEY BLOCK-----\n .\n abc\n';
    expect(signedByPaths(oneLine)).toEqual(['/usr/share/keyrings/a.gpg']);
    expect(signedByPaths(deb822)).toEqual(['/usr/share/keyrings/debian-archive-keyring.gpg']);
    expect(signedByPaths(inline)).toEqual([]);
    const rename = (p: string) => `/cache/keyrings/${p.split('/').pop()}`;
    expect(rewriteSignedBy(oneLine, rename)).toBe(oneLine.replace('/usr/share/keyrings/a.gpg', '/cache/keyrings/a.gpg'));
    expect(rewriteSignedBy(deb822, rename)).toBe(deb822.replace('/usr/share/keyrings/', '/cache/keyrings/'));
    expect(rewriteSignedBy(inline, rename)).toBe(inline);
  });

  test('a deb822 Signed-By naming two keyrings, separated by a comma or a space, is read and rewritten key by key', () => {
    for (const sep of [',', ' ', ', ']) {
      const text = `Types: deb\nURIs: http://x\nSuites: bookworm\nComponents: main\nSigned-By: /etc/apt/keyrings/a.gpg${sep}/usr/share/keyrings/b.gpg\n`;
      expect(signedByPaths(text)).toEqual(['/etc/apt/keyrings/a.gpg', '/usr/share/keyrings/b.gpg']);
      const seen: string[] = [];
      const out = rewriteSignedBy(text, (p) => {
        seen.push(p);
        return `/cache/${p.split('/').pop()}`;
      });
      expect(seen).toEqual(['/etc/apt/keyrings/a.gpg', '/usr/share/keyrings/b.gpg']);
      expect(out).toContain(`Signed-By: /cache/a.gpg${sep}/cache/b.gpg\n`);
    }
  });
});

describe('dpkg status', () => {
  const status = [
    'Package: libc6',
    'Status: install ok installed',
    'Architecture: amd64',
    'Version: 2.36-9+deb12u14',
    'Description: GNU C Library',
    ' Contains the standard libraries.',
    '',
    'Package: oldconf',
    'Status: deinstall ok config-files',
    'Version: 1.0',
    '',
  ].join('\n');

  test('parses paragraphs and the three words of Status', () => {
    const p = parseStatus(status);
    expect(p.map((x) => [x.package, x.version, x.want, x.flag, x.state])).toEqual([
      ['libc6', '2.36-9+deb12u14', 'install', 'ok', 'installed'],
      ['oldconf', '1.0', 'deinstall', 'ok', 'config-files'],
    ]);
    expect(p[0]!.fields.Description).toBe('GNU C Library\nContains the standard libraries.');
  });

  test('holds every installed package and changes nothing else', () => {
    const held = holdAll(status);
    expect(held).toBe(status.replace('Status: install ok installed', 'Status: hold ok installed'));
    expect(parseStatus(held)[0]!.want).toBe('hold');
  });

  test('os-release quoting', () => {
    expect(parseOsRelease('NAME="Debian GNU/Linux"\nID=debian\n# c\nVERSION=\'12 (bookworm)\'\nX="a \\"b\\""\n')).toEqual({
      NAME: 'Debian GNU/Linux',
      ID: 'debian',
      VERSION: '12 (bookworm)',
      X: 'a "b"',
    });
  });
});

describe('ostree output', () => {
  test('admin status: booted, pending, rollback and origins', () => {
    const text = [
      '  debian 40059384470a75fa13f4b3ff53459be48f7b6d32ba36e9d4c966d636a7e964c0.1 (pending)',
      '    Version: 12',
      '    origin refspec: debian/12',
      '* debian 9069c2d201cab32e4fc813b623d972e7a9ca3b6fab12ede4bebeb095d8fce995.0',
      '    Unlocked: development',
      '    origin refspec: debian/12',
      '  other 182b6268893994f4cc4258519ba1d6e7a8cfb54dfab36647e437143a6e58ade9.0 (rollback)',
    ].join('\n');
    const d = parseAdminStatus(text);
    expect(d.map((x) => [x.index, x.stateroot, x.serial, x.booted, x.pending, x.rollback, x.refspec])).toEqual([
      [0, 'debian', 1, false, true, false, 'debian/12'],
      [1, 'debian', 0, true, false, false, 'debian/12'],
      [2, 'other', 0, false, false, true, undefined],
    ]);
    // ostree admin unlock (deblayer usroverlay) shows on the deployment it unlocked.
    expect(d.map((x) => x.unlocked)).toEqual([undefined, 'development', undefined]);
  });

  test('remote summaries: the newest commit of each ref, with its version when it has one', () => {
    const [a, b] = ['56662ce6e2d8f5b235b9ab1383167affef8aa9e9bedf8be2ff0e0252db203afb', '9f0c1d2e3a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5'];
    // `ostree remote summary` of ostree 2022.7.
    const text = [
      '* fx/base',
      '    Latest Commit (142 bytes):',
      `      ${a}`,
      '    Version (ostree.commit.version): 12.3',
      '    Timestamp (ostree.commit.timestamp): 2026-12-01T06:13:32+00',
      '',
      '* fx/other',
      '    Latest Commit (150 bytes):',
      `      ${b}`,
      '    Timestamp (ostree.commit.timestamp): 2026-12-01T06:14:02+00',
      '',
      'Repository Mode (ostree.summary.mode): archive-z2',
      'Last-Modified (ostree.summary.last-modified): 2026-12-01T06:13:32+00',
      'ostree.summary.indexed-deltas: true',
    ].join('\n');
    expect(Object.fromEntries(parseRemoteSummary(text))).toEqual({ 'fx/base': { commit: a, version: '12.3' }, 'fx/other': { commit: b } });
  });

  test('ls lines and raw commits', () => {
    expect(parseLsLine('l00777 0 0      0 /bin -> usr/bin')).toEqual({ type: 'symlink', mode: 0o777, uid: 0, gid: 0, size: 0, path: '/bin', target: 'usr/bin' });
    expect(parseLsLine('-00644 0 0    251 /usr/etc/passwd')).toMatchObject({ type: 'file', mode: 0o644, size: 251 });
    const raw =
      "commit 9069c2d2\n({'version': <'12'>, 'deblayer.base': <'ab'>, 'ostree.ref-binding': <['a']>}, @ay [byte 0x87, 0x3d], @a(say) [], 's, with comma', '', uint64 1577836800, [byte 0x87], [byte 0x44])";
    expect(parseRawCommit('9069c2d2', raw)).toEqual({
      checksum: '9069c2d2',
      subject: 's, with comma',
      date: '2020-01-01T00:00:00.000Z',
      metadata: { version: '12', 'deblayer.base': 'ab', 'ostree.ref-binding': ['a'] },
    });
  });
});

describe('origin files', () => {
  test('round trip: layered, unlayered, and groups deblayer does not know are kept', async () => {
    const { formatOrigin, parseOrigin } = await import('../../src/deploy/origin.js');
    const layered = '[origin]\nbaserefspec=origin:debian/12\n\n[packages]\nrequested=htop;curl;\nrequested-local=fx-local_3.0_all;\n\n[deblayer]\nbase-commit=abc\n\n[rpmostree]\noverride-commit=x\n';
    const model = parseOrigin(layered);
    expect(model).toEqual({
      baseRefspec: 'origin:debian/12',
      requested: ['htop', 'curl'],
      requestedLocal: ['fx-local_3.0_all'],
      baseCommit: 'abc',
      other: { rpmostree: { 'override-commit': 'x' } },
    });
    expect(formatOrigin(model)).toBe(layered);
    expect(parseOrigin(formatOrigin(model))).toEqual(model);
    // Nothing layered: ostree's own plain refspec, which ostree admin upgrade follows.
    expect(formatOrigin({ baseRefspec: 'debian/12', requested: [], requestedLocal: [], baseCommit: 'abc', other: {} })).toBe('[origin]\nrefspec=debian/12\n');
    expect(parseOrigin('[origin]\nrefspec=debian/12\n')).toEqual({ baseRefspec: 'debian/12', requested: [], requestedLocal: [], other: {} });
  });

  test('override remove: [overrides] remove=, as rpm-ostree writes it; base packages removed alone still follow baserefspec', async () => {
    const { formatOrigin, parseOrigin } = await import('../../src/deploy/origin.js');
    const removedOnly = '[origin]\nbaserefspec=debian/12\n\n[overrides]\nremove=tzdata;nano;\n\n[deblayer]\nbase-commit=abc\n';
    const model = parseOrigin(removedOnly);
    expect(model).toEqual({ baseRefspec: 'debian/12', requested: [], requestedLocal: [], overrideRemove: ['tzdata', 'nano'], baseCommit: 'abc', other: {} });
    expect(formatOrigin(model)).toBe(removedOnly);
    expect(formatOrigin({ ...model, requested: ['htop'] })).toBe('[origin]\nbaserefspec=debian/12\n\n[packages]\nrequested=htop;\n\n[overrides]\nremove=tzdata;nano;\n\n[deblayer]\nbase-commit=abc\n');
    // Replacements, from the sources and local files.
    const replaced = '[origin]\nbaserefspec=debian/12\n\n[overrides]\nreplace=openssl=3.0.17-1~deb12u3;\nreplace-local=libfoo1_1.2-1_amd64;\n';
    expect(parseOrigin(replaced)).toMatchObject({ overrideReplace: ['openssl=3.0.17-1~deb12u3'], overrideReplaceLocal: ['libfoo1_1.2-1_amd64'] });
    expect(formatOrigin(parseOrigin(replaced))).toBe(replaced);
    // Without removals the group goes; an [overrides] key deblayer does not know is kept.
    expect(formatOrigin({ ...model, overrideRemove: [] })).toBe('[origin]\nrefspec=debian/12\n');
    expect(parseOrigin('[origin]\nrefspec=x\n[overrides]\nreplace-old=a;\n').other).toEqual({ overrides: { 'replace-old': 'a;' } });
  });

  test('dpkg status paragraphs: fields in dpkg order, merged sorted into the base status', async () => {
    const { mergeStatus, statusParagraph } = await import('../../src/compose/dpkg-database.js');
    const record = {
      package: 'htop',
      version: '3.2.2-2',
      architecture: 'amd64',
      files: [],
      md5sums: {},
      conffiles: [{ path: '/etc/htoprc', flags: [] }],
      tmpfiles: [],
      controlText: 'Package: htop\nVersion: 3.2.2-2\nArchitecture: amd64\nMaintainer: M <m@x>\nInstalled-Size: 372\nDepends: libc6\nSection: utils\nPriority: optional\nHomepage: https://htop.dev/\nDescription: viewer\n long text\n',
      members: [],
      multiArchSame: false,
      conffileMd5: { '/etc/htoprc': '0123456789abcdef0123456789abcdef' },
    };
    expect(statusParagraph(record)).toBe(
      'Package: htop\nStatus: install ok installed\nPriority: optional\nSection: utils\nInstalled-Size: 372\nMaintainer: M <m@x>\nArchitecture: amd64\nVersion: 3.2.2-2\nDepends: libc6\nConffiles:\n /etc/htoprc 0123456789abcdef0123456789abcdef\nDescription: viewer\n long text\nHomepage: https://htop.dev/\n',
    );
    const merged = mergeStatus('Package: zlib1g\nStatus: install ok installed\n\nPackage: apt\nStatus: install ok installed\n', [record]);
    expect([...merged.matchAll(/^Package: (\S+)$/gm)].map((m) => m[1])).toEqual(['apt', 'htop', 'zlib1g']);
  });
});
