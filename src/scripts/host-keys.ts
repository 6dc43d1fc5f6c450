// SSH host keys are left out of layered commits (secrets.ts), and Debian's
// ssh.service does not make missing ones (`sshd -t` fails with "no hostkeys
// available"): when a layer leaves keys out, it ships a oneshot unit that runs
// `ssh-keygen -A` (which makes only the missing keys) before ssh.service, and
// a drop-in that makes ssh.service pull it in.

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const HOST_KEYS_UNIT = 'lib/systemd/system/deblayer-ssh-host-keys.service';
export const SSH_DROP_IN = 'lib/systemd/system/ssh.service.d/deblayer-host-keys.conf';

const UNIT = `# Written by deblayer: SSH host keys are made on each host, never shipped in a commit.
[Unit]
Description=SSH host keys for this host (deblayer)
Before=ssh.service
ConditionPathExists=/usr/bin/ssh-keygen

[Service]
Type=oneshot
ExecStart=/usr/bin/ssh-keygen -A
`;

const DROP_IN = `# Written by deblayer: make missing SSH host keys first.
[Unit]
Wants=deblayer-ssh-host-keys.service
After=deblayer-ssh-host-keys.service
`;

/** Writes the unit and the drop-in into USR (the layer's usr/). */
export function writeHostKeyUnits(usr: string): void {
  for (const [path, text] of [
    [HOST_KEYS_UNIT, UNIT],
    [SSH_DROP_IN, DROP_IN],
  ] as const) {
    mkdirSync(dirname(join(usr, path)), { recursive: true });
    writeFileSync(join(usr, path), text, { mode: 0o644 });
  }
}
