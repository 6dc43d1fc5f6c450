// systemctl(1), systemd-sysusers(8) and systemd-tmpfiles(8) on the running
// host: the only place that builds their command lines. apply-live asks them
// to take in what it added, as the next boot would.

import { run } from './run.js';

/** Reloads the unit files, so that added units are known and enabled ones can be started. */
export async function daemonReload(): Promise<void> {
  await run('systemctl', ['daemon-reload'], 'cannot reload systemd\'s units (systemctl daemon-reload)');
}

/** Creates the accounts that these sysusers.d FILES declare and the host has not (the files only: nothing else is looked at). */
export async function createAccounts(files: string[]): Promise<void> {
  if (files.length === 0) return;
  await run('systemd-sysusers', files, `cannot create the accounts of ${files.join(', ')} (systemd-sysusers)`);
}

/** Creates what these tmpfiles.d FILES declare (directories and links in /var, /run). */
export async function createTmpfiles(files: string[]): Promise<void> {
  if (files.length === 0) return;
  await run('systemd-tmpfiles', ['--create', ...files], `cannot create what ${files.join(', ')} declare (systemd-tmpfiles --create)`);
}
