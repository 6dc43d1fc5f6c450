// A .deb's member layout, checked the way dpkg-deb checks it: 'debian-binary'
// first with format 2.x, then 'control.tar[.ext]', then 'data.tar[.ext]'.
// Members whose names start with '_' are optional extensions and skipped;
// anything else before the data member is an error, anything after it is
// ignored (dpkg stops reading there too).

import { readArArchive, readArMemberData, type ArMember } from './ar.js';
import { compressionFromSuffix, type Compression } from './compression.js';
import { DebFormatError } from '../errors.js';

export interface TarMember extends ArMember {
  compression: Compression;
}

export interface DebLayout {
  file: string;
  /** Size of the .deb in bytes. */
  size: number;
  /** Content of debian-binary without its newline, e.g. "2.0". */
  formatVersion: string;
  control: TarMember;
  data: TarMember;
}

function tarMember(file: string, member: ArMember, prefix: string): TarMember {
  const suffix = member.name.slice(prefix.length);
  const compression = compressionFromSuffix(suffix);
  if (compression === undefined) {
    throw new DebFormatError(file, `member '${member.name}' uses a compression deblayer cannot read ('${suffix}')`);
  }
  return { ...member, compression };
}

export function readDebLayout(file: string): DebLayout {
  const archive = readArArchive(file, (m) => m.name.startsWith('data.tar'));
  const [first, ...rest] = archive.members;
  if (first === undefined) throw new DebFormatError(file, 'empty ar archive, not a Debian package');
  if (first.name !== 'debian-binary') {
    throw new DebFormatError(file, `not a Debian binary package: first member is '${first.name}', not 'debian-binary'`);
  }
  const version = readArMemberData(file, first).toString('latin1');
  if (!/^2\.\d+\n/.test(version)) {
    throw new DebFormatError(file, `unsupported Debian package format '${version.trim()}' (deblayer reads 2.x)`);
  }
  let control: TarMember | undefined;
  let data: TarMember | undefined;
  for (const member of rest) {
    if (member.name.startsWith('_')) continue;
    if (member.name.startsWith('control.tar')) {
      if (control !== undefined) throw new DebFormatError(file, 'archive contains two control members');
      control = tarMember(file, member, 'control.tar');
    } else if (member.name.startsWith('data.tar')) {
      if (control === undefined) {
        throw new DebFormatError(file, `member '${member.name}' comes before the control member`);
      }
      data = tarMember(file, member, 'data.tar');
      break;
    } else {
      throw new DebFormatError(
        file,
        `unexpected member '${member.name}' ${control === undefined ? "before 'control.tar'" : "before 'data.tar'"}`,
      );
    }
  }
  if (control === undefined) throw new DebFormatError(file, "missing member 'control.tar'");
  if (data === undefined) throw new DebFormatError(file, "missing member 'data.tar'");
  return { file, size: archive.size, formatVersion: version.trim(), control, data };
}
