// Secrets left out of a commit (secrets.ts) must be made again on each host,
// before the services that use them start; otherwise every host either
// shares one or has none. For the secrets deblayer knows how to make, a layer
// ships a oneshot unit that runs the package's own generator, which makes only
// what is missing:
//   - SSH host keys: `ssh-keygen -A`, before ssh.service (Debian's ssh.service
//     does not make missing keys: `sshd -t` fails with "no hostkeys available");
//   - ssl-cert's snakeoil pair: `make-ssl-cert generate-default-snakeoil`,
//     early in sysinit, once sysusers has made its ssl-cert group: postgresql,
//     nginx, exim, dovecot and others point at it, and ordering before each of
//     them is not something a layer can know.
// Any other secret is said plainly: the host has none, and a package's
// configuration that needs it must be given one.

import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Dropped } from './diff.js';

export const HOST_KEYS_UNIT = 'lib/systemd/system/deblayer-ssh-host-keys.service';
export const SSH_DROP_IN = 'lib/systemd/system/ssh.service.d/deblayer-host-keys.conf';
export const SNAKEOIL_UNIT = 'lib/systemd/system/deblayer-ssl-cert-snakeoil.service';
const SNAKEOIL_WANTS = 'lib/systemd/system/sysinit.target.wants/deblayer-ssl-cert-snakeoil.service';

const HOST_KEYS = `# Written by deblayer: SSH host keys are made on each host, never shipped in a commit.
[Unit]
Description=SSH host keys for this host (deblayer)
Before=ssh.service
ConditionPathExists=/usr/bin/ssh-keygen

[Service]
Type=oneshot
ExecStart=/usr/bin/ssh-keygen -A
`;

const SSH_WANTS = `# Written by deblayer: make missing SSH host keys first.
[Unit]
Wants=deblayer-ssh-host-keys.service
After=deblayer-ssh-host-keys.service
`;

const SNAKEOIL = `# Written by deblayer: the snakeoil key and certificate are made on each host, never shipped in a commit.
[Unit]
Description=ssl-cert snakeoil key and certificate for this host (deblayer)
DefaultDependencies=no
After=local-fs.target systemd-sysusers.service systemd-tmpfiles-setup.service
Before=sysinit.target shutdown.target
Conflicts=shutdown.target
ConditionPathExists=/usr/sbin/make-ssl-cert
ConditionPathExists=!/etc/ssl/private/ssl-cert-snakeoil.key

[Service]
Type=oneshot
ExecStart=/usr/sbin/make-ssl-cert generate-default-snakeoil
`;

interface Generator {
  /** What makes the secret on each host, for the user. */
  notice: string;
  matches(path: string): boolean;
  write(usr: string): void;
}

const GENERATORS: Generator[] = [
  {
    notice: `SSH host keys are made on each host at boot, before ssh.service, by /usr/${HOST_KEYS_UNIT}.`,
    matches: (p) => p.startsWith('/etc/ssh/ssh_host_'),
    write: (usr) => writeFiles(usr, [[HOST_KEYS_UNIT, HOST_KEYS], [SSH_DROP_IN, SSH_WANTS]]),
  },
  {
    notice: `The snakeoil key and certificate are made on each host at boot, before any service starts, by /usr/${SNAKEOIL_UNIT}.`,
    matches: (p) => /^\/etc\/ssl\/(private\/ssl-cert-snakeoil\.key|certs\/ssl-cert-snakeoil\.pem)$/.test(p),
    write: (usr) => {
      writeFiles(usr, [[SNAKEOIL_UNIT, SNAKEOIL]]);
      mkdirSync(dirname(join(usr, SNAKEOIL_WANTS)), { recursive: true });
      symlinkSync('../deblayer-ssl-cert-snakeoil.service', join(usr, SNAKEOIL_WANTS));
    },
  },
];

/** Made by the host's own services: systemd makes a missing machine id and random seed. */
const MADE_BY_SYSTEMD = /machine-id$|random-seed$/;

function writeFiles(usr: string, files: [string, string][]): void {
  for (const [path, text] of files) {
    mkdirSync(dirname(join(usr, path)), { recursive: true });
    writeFileSync(join(usr, path), text, { mode: 0o644 });
  }
}

/**
 * Writes into USR (the layer's usr/) the units that make the SECRETS left out
 * again on each host, and returns one line for the user per secret. OWNERS
 * names the packages whose scripts may have made a path.
 */
export function provideHostSecrets(usr: string, secrets: Dropped[], owners: (path: string) => string[]): string[] {
  const notices: string[] = [];
  const used = new Set<Generator>();
  for (const s of secrets) {
    const g = GENERATORS.find((x) => x.matches(s.path));
    if (g) {
      used.add(g);
      notices.push(`Left out of the commit: ${s.path} (${s.why}); each host makes its own.`);
    } else if (MADE_BY_SYSTEMD.test(s.path)) {
      notices.push(`Left out of the commit: ${s.path} (${s.why}); systemd makes the host's own at boot.`);
    } else {
      const by = owners(s.path);
      notices.push(
        `Left out of the commit: ${s.path} (${s.why}), made by the scripts of ${by.length > 0 ? by.join(', ') : 'a layered package'}; deblayer cannot make it again, so hosts booted from this commit have none: give each host its own before the services that need it start.`,
      );
    }
  }
  for (const g of used) {
    g.write(usr);
    notices.push(g.notice);
  }
  return notices;
}
