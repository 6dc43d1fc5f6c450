// What a system extension image keeps of a composed delta: /usr content, links
// through /etc/alternatives pointed at their choice, /etc refused or (with
// --without-etc) left out with a note, /var and accounts always refused.

import { describe, expect, test } from 'vitest';
import { sysextContents, type DeltaEntry, type SysextInput } from '../../src/sysext/select.js';

const input = (extra: Partial<SysextInput> = {}): SysextInput => ({
  // As ownersFromInfo reads them: tree paths, and PKG:ARCH for a Multi-Arch: same package.
  owners: new Map([
    ['usr/etc/vim/vimrc.tiny', 'vim-tiny'],
    ['var/lib/fx/state', 'fx:amd64'],
  ]),
  databasePath: 'usr/lib/sysimage/dpkg',
  newAccounts: [],
  ...extra,
});

const dir = (path: string): DeltaEntry => ({ path, kind: 'directory' });
const file = (path: string): DeltaEntry => ({ path, kind: 'file' });
const link = (path: string, target: string): DeltaEntry => ({ path, kind: 'symlink', target });

// vim-tiny as its scripts leave it: the generic names through /etc/alternatives, and a conffile.
const vim: DeltaEntry[] = [
  dir('/usr'),
  dir('/usr/bin'),
  file('/usr/bin/vim.tiny'),
  link('/usr/bin/vi', '/etc/alternatives/vi'),
  link('/usr/bin/editor', '/etc/alternatives/editor'),
  link('/usr/share/man/man1/vi.1.gz', '/etc/alternatives/vi.1.gz'),
  dir('/usr/etc'),
  dir('/usr/etc/alternatives'),
  link('/usr/etc/alternatives/vi', '/usr/bin/vim.tiny'),
  link('/usr/etc/alternatives/editor', '/usr/bin/vim.tiny'),
  link('/usr/etc/alternatives/vi.1.gz', '/usr/share/man/man1/vim.1.gz'),
  dir('/usr/etc/vim'),
  file('/usr/etc/vim/vimrc.tiny'),
  dir('/usr/lib/sysimage/dpkg'),
  file('/usr/lib/sysimage/dpkg/status'),
  dir('/usr/share/deblayer/packages'),
  file('/usr/share/deblayer/packages/vim-tiny_amd64.json'),
];

describe('sysextContents', () => {
  test('links through /etc/alternatives point at the choice; the alternatives themselves never count as /etc files', () => {
    const got = sysextContents(vim, input({ withoutEtc: true }));
    expect(got.relink).toEqual([
      { path: '/usr/bin/vi', target: '/usr/bin/vim.tiny' },
      { path: '/usr/bin/editor', target: '/usr/bin/vim.tiny' },
      { path: '/usr/share/man/man1/vi.1.gz', target: '/usr/share/man/man1/vim.1.gz' },
    ]);
    expect(got.refusals).toEqual([]);
    expect(got.notes).toEqual(['left out, as --without-etc asks (the programs run without them): vim-tiny: /etc/vim/vimrc.tiny']);
    // /etc, the dpkg database and deblayer's package records are not packed.
    expect(got.remove).toEqual(['/usr/etc', '/usr/lib/sysimage/dpkg', '/usr/share/deblayer/packages']);
  });

  test('without --without-etc, a conffile refuses the image, naming its package and saying how to leave it out', () => {
    const got = sysextContents(vim, input());
    expect(got.refusals).toEqual([
      'files in /etc, where a system extension puts nothing (vim-tiny: /etc/vim/vimrc.tiny); --without-etc leaves them out, for programs that run without them',
    ]);
  });

  test('a choice outside /usr is refused, naming the link; a chained alternative is followed; a merged-/usr path is taken', () => {
    const got = sysextContents(
      [
        link('/usr/bin/fx', '/etc/alternatives/fx'),
        link('/usr/etc/alternatives/fx', '/srv/fx/bin/fx'),
        link('/usr/bin/pager', '/etc/alternatives/pager'),
        link('/usr/etc/alternatives/pager', '/etc/alternatives/less'),
        link('/usr/etc/alternatives/less', '/bin/less'),
        // One that leads to an alternative of the base's: the host's own then.
        link('/usr/bin/fx-awk', '/etc/alternatives/fx-awk'),
        link('/usr/etc/alternatives/fx-awk', '/etc/alternatives/awk'),
        link('/usr/bin/a', '/etc/alternatives/a'),
        link('/usr/etc/alternatives/a', '/etc/alternatives/b'),
        link('/usr/etc/alternatives/b', '/etc/alternatives/a'),
      ],
      input(),
    );
    expect(got.refusals).toEqual(['/usr/bin/fx is the alternative fx, whose choice /srv/fx/bin/fx is outside /usr and /opt', '/usr/bin/a is the alternative a, whose choices make a loop']);
    expect(got.relink).toEqual([
      { path: '/usr/bin/pager', target: '/bin/less' },
      { path: '/usr/bin/fx-awk', target: '/etc/alternatives/awk' },
    ]);
    // Every alternative on the way was used: none is left to note.
    expect(got.notes).toEqual([]);
  });

  test("a link to an alternative the image does not set is left to the host's; a choice no link of the image uses is noted", () => {
    const got = sysextContents(
      [link('/usr/bin/awk-fx', '/etc/alternatives/awk'), link('/usr/etc/alternatives/editor', '/usr/bin/vim.tiny')],
      input(),
    );
    expect(got.relink).toEqual([]);
    expect(got.refusals).toEqual([]);
    expect(got.notes).toEqual(["the host's /etc/alternatives keeps its own choice for editor (an extension cannot change it)"]);
  });

  test('/var files and new accounts are refused even with --without-etc', () => {
    const got = sysextContents(
      [
        dir('/usr/share/factory/var/lib/fx'),
        file('/usr/share/factory/var/lib/fx/state'),
        // deb-systemd-helper's and ucf's bookkeeping go with the /etc files they record; man-db's index is the host's to make.
        file('/usr/share/factory/var/lib/systemd/deb-systemd-helper-enabled/fx.service.dsh-also'),
        file('/usr/share/factory/var/lib/ucf/registry'),
        file('/usr/share/factory/var/cache/man/index.db'),
        file('/usr/lib/sysusers.d/fx.conf'),
      ],
      input({ withoutEtc: true, newAccounts: ['fx'], owners: new Map([['var/lib/fx/state', 'fx:amd64'], ['usr/lib/sysusers.d/fx.conf', 'fx:amd64']]) }),
    );
    expect(got.refusals).toEqual([
      'files in /var, where a system extension puts nothing (fx: /var/lib/fx/state)',
      'fx (/usr/lib/sysusers.d/fx.conf) declares accounts, which a system extension cannot create',
      'accounts that maintainer scripts create (fx), which a system extension cannot carry',
    ]);
  });
});
