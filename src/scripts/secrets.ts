// Host identity and secrets that scripts generate are never baked into a
// commit: every host made from it would share them. They are left out, with
// a line saying so (host-secrets.ts says who makes them again). A private
// key's certificate goes with it: a certificate without its key is of no use,
// and one shared by every host is a lie about which host it names.

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

/**
 * For a private key left out (etc/ssl/private/NAME.key), the certificate that
 * belongs to it (etc/ssl/certs/NAME.pem), relative to the same root; else undefined.
 */
export function certificateOf(keyPath: string): string | undefined {
  const m = /^etc\/ssl\/private\/(.+)\.key$/.exec(keyPath);
  return m ? `etc/ssl/certs/${m[1]}.pem` : undefined;
}
