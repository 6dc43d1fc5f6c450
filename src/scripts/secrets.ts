// Host identity and secrets that scripts generate are never baked into a
// commit: every host made from it would share them. They are left out, with
// a line saying so; the host makes its own (systemd at first boot for
// machine-id and seeds, ssh-keygen -A for SSH host keys).

const SECRETS: [RegExp, string][] = [
  [/^etc\/ssh\/ssh_host_[^/]*key(\.pub)?$/, 'an SSH host key'],
  [/^etc\/machine-id$/, 'the machine id'],
  [/^lib\/dbus\/machine-id$/, 'the machine id'],
  [/(^|\/)random-seed$/, 'a random seed'],
  [/^etc\/ssl\/private\/.*\.key$/, 'a private key'],
];

/** What PATH (relative to / of the host: etc/..., lib/... of /var) is, when it is a secret. */
export function secretKind(path: string): string | undefined {
  return SECRETS.find(([re]) => re.test(path))?.[1];
}
