// The fixture world for resolution tests, built at test time from
// fixtures/repo/packages.json with the real tools: packages with dpkg-deb, a
// flat apt repository with apt-ftparchive signed by a throwaway gpg key, copies
// of it unsigned and signed by another key, and a Debian root filesystem made
// by installing the base packages with dpkg, whose sources point at the repo.

import { execa } from 'execa';
import { chmodSync, copyFileSync, cpSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync, chownSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface PackageSpec {
  Package: string;
  /** The source package, when it is not named as the binary one. */
  Source?: string;
  Version: string;
  Architecture: string;
  Depends?: string;
  Recommends?: string;
  Conflicts?: string;
  Provides?: string;
  Replaces?: string;
  Essential?: string;
  Maintainer?: string;
  conffiles?: string[];
  files?: Record<string, string>;
  dirs?: Record<string, string>;
  links?: Record<string, string>;
  /** Maintainer scripts (preinst, postinst, ...) and the triggers file, by control member name. */
  control?: Record<string, string>;
}

interface Specs {
  base: PackageSpec[];
  repo: PackageSpec[];
  local: PackageSpec[];
}

export const SPECS = JSON.parse(readFileSync(new URL('../../fixtures/repo/packages.json', import.meta.url), 'utf8')) as Specs;

export interface FixtureWorld {
  dir: string;
  /** Signed flat repository (`file:DIR ./`). */
  repo: string;
  unsignedRepo: string;
  otherKeyRepo: string;
  /** Binary public keyring of the key that signs `repo`. */
  keyring: string;
  /** A Debian root filesystem with the base packages, sources pointing at `repo`. */
  rootfs: string;
  /** Local-only package files, by "NAME_VERSION". */
  local: Record<string, string>;
}

const CONTROL_FIELDS = ['Package', 'Source', 'Version', 'Architecture', 'Essential', 'Depends', 'Recommends', 'Conflicts', 'Replaces', 'Provides'] as const;

export async function buildPackage(spec: PackageSpec, outDir: string): Promise<string> {
  const stage = join(outDir, `.stage-${spec.Package}-${spec.Version.replace(/:/g, '_')}`);
  mkdirSync(join(stage, 'DEBIAN'), { recursive: true });
  const control = CONTROL_FIELDS.filter((f) => spec[f] !== undefined).map((f) => `${f}: ${spec[f]}`);
  control.push(`Maintainer: ${spec.Maintainer ?? 'deblayer tests <tests@deblayer.invalid>'}`, `Description: fixture package ${spec.Package}`);
  writeFileSync(join(stage, 'DEBIAN/control'), control.join('\n') + '\n');
  const files = { [`usr/share/doc/${spec.Package}/marker`]: `${spec.Package} ${spec.Version}\n`, ...spec.files };
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(stage, path)), { recursive: true });
    writeFileSync(join(stage, path), text);
  }
  for (const [path, how] of Object.entries(spec.dirs ?? {})) {
    const [mode, uid, gid] = how.split(':');
    mkdirSync(join(stage, path), { recursive: true });
    chmodSync(join(stage, path), parseInt(mode!, 8));
    chownSync(join(stage, path), Number(uid), Number(gid));
  }
  for (const [path, target] of Object.entries(spec.links ?? {})) {
    mkdirSync(dirname(join(stage, path)), { recursive: true });
    symlinkSync(target, join(stage, path));
  }
  if (spec.conffiles) writeFileSync(join(stage, 'DEBIAN/conffiles'), spec.conffiles.join('\n') + '\n');
  for (const [name, text] of Object.entries(spec.control ?? {})) {
    writeFileSync(join(stage, 'DEBIAN', name), text, { mode: name === 'triggers' ? 0o644 : 0o755 });
  }
  const du = await execa('du', ['-sk', '--exclude=DEBIAN', stage]);
  control.push(`Installed-Size: ${du.stdout.split(/\s/)[0]}`);
  writeFileSync(join(stage, 'DEBIAN/control'), control.join('\n') + '\n');
  const deb = join(outDir, `${spec.Package}_${spec.Version.replace(/:/g, '%3a')}_${spec.Architecture}.deb`);
  await execa('dpkg-deb', ['--build', stage, deb], { env: { LC_ALL: 'C' } });
  rmSync(stage, { recursive: true, force: true });
  return deb;
}

async function gpgKey(home: string, name: string): Promise<{ home: string; keyring: string }> {
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const gpg = (args: string[]) => execa('gpg', ['--homedir', home, '--batch', '--quiet', '--pinentry-mode', 'loopback', '--passphrase', '', ...args]);
  await gpg(['--quick-gen-key', `${name} <tests@deblayer.invalid>`, 'ed25519', 'sign', 'never']);
  const keyring = join(home, 'public.gpg');
  // Straight to the file: captured output would lose a final 0x0a byte (execa strips
  // a final newline), which corrupted one key in a few hundred.
  await execa('gpg', ['--homedir', home, '--batch', '--yes', '--output', keyring, '--export']);
  return { home, keyring };
}

async function stopAgent(home: string): Promise<void> {
  await execa('gpgconf', ['--homedir', home, '--kill', 'gpg-agent'], { reject: false });
}

async function publish(dir: string, debs: string[], signWith?: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  for (const deb of debs) copyFileSync(deb, join(dir, deb.split('/').pop()!));
  const packages = await execa('apt-ftparchive', ['packages', '.'], { cwd: dir });
  writeFileSync(join(dir, 'Packages'), packages.stdout + '\n');
  const release = await execa('apt-ftparchive', ['-o', 'APT::FTPArchive::Release::Origin=deblayer-tests', 'release', '.'], { cwd: dir });
  writeFileSync(join(dir, 'Release'), release.stdout + '\n');
  if (signWith) {
    const gpg = ['--homedir', signWith, '--batch', '--yes', '--pinentry-mode', 'loopback', '--passphrase', ''];
    await execa('gpg', [...gpg, '--clearsign', '--output', 'InRelease', 'Release'], { cwd: dir });
    await execa('gpg', [...gpg, '--armor', '--detach-sign', '--output', 'Release.gpg', 'Release'], { cwd: dir });
  }
}

/** A flat repository of DEBS in DIR, as they are (its Packages index carries their hashes), signed with the world's key. */
export async function publishSigned(dir: string, debs: string[], world: FixtureWorld): Promise<void> {
  const home = join(world.dir, 'gnupg');
  try {
    await publish(dir, debs, home);
  } finally {
    await stopAgent(home);
  }
}

/** deb822 sources for the fixture repository, keyed to a Signed-By path. */
export function fixtureSources(uri: string, signedBy: string): string {
  return `Types: deb\nURIs: ${uri}\nSuites: ./\nSigned-By: ${signedBy}\n`;
}

export async function buildFixtureWorld(dir: string, kernelDeb: string): Promise<FixtureWorld> {
  // apt's methods run as the _apt user: the repository must be readable by it.
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755);
  const debs = join(dir, 'debs');
  mkdirSync(debs);
  const build = async (specs: PackageSpec[], sub: string) => {
    mkdirSync(join(debs, sub));
    const out: Record<string, string> = {};
    for (const s of specs) out[`${s.Package}_${s.Version}`] = await buildPackage(s, join(debs, sub));
    return out;
  };
  const base = await build(SPECS.base, 'base');
  const repoDebs = await build(SPECS.repo, 'repo');
  const local = await build(SPECS.local, 'local');

  const key = await gpgKey(join(dir, 'gnupg'), 'deblayer test repository');
  const other = await gpgKey(join(dir, 'gnupg-other'), 'someone else');
  try {
    await publish(join(dir, 'repo'), Object.values(repoDebs), key.home);
    await publish(join(dir, 'repo-unsigned'), Object.values(repoDebs));
    await publish(join(dir, 'repo-other-key'), Object.values(repoDebs), other.home);
  } finally {
    await stopAgent(key.home);
    await stopAgent(other.home);
  }
  // The signed repository must verify with the exported key, or every test below fails obscurely.
  const check = await execa('gpgv', ['--keyring', key.keyring, join(dir, 'repo', 'InRelease')], { reject: false });
  if (check.exitCode !== 0) throw new Error(`fixture repository does not verify with its key: ${check.stderr}`);

  const rootfs = join(dir, 'rootfs');
  await makeRootfs(rootfs, [...Object.values(base), kernelDeb]);
  mkdirSync(join(rootfs, 'usr/share/keyrings'), { recursive: true });
  copyFileSync(key.keyring, join(rootfs, 'usr/share/keyrings/deblayer-fixture.gpg'));
  mkdirSync(join(rootfs, 'etc/apt/sources.list.d'), { recursive: true });
  writeFileSync(
    join(rootfs, 'etc/apt/sources.list.d/fixture.sources'),
    fixtureSources(`file:${join(dir, "repo")}`, '/usr/share/keyrings/deblayer-fixture.gpg'),
  );
  return {
    dir,
    repo: join(dir, 'repo'),
    unsignedRepo: join(dir, 'repo-unsigned'),
    otherKeyRepo: join(dir, 'repo-other-key'),
    keyring: key.keyring,
    rootfs,
    local,
  };
}

/** A merged-/usr root filesystem with PACKAGES installed by dpkg (no maintainer scripts in them). */
export async function makeRootfs(root: string, packages: string[]): Promise<void> {
  for (const d of ['usr/bin', 'usr/sbin', 'usr/lib', 'etc', 'var/lib/dpkg/info', 'var/lib/dpkg/updates', 'tmp']) {
    mkdirSync(join(root, d), { recursive: true });
  }
  for (const l of ['bin', 'sbin', 'lib']) symlinkSync(`usr/${l}`, join(root, l));
  writeFileSync(join(root, 'var/lib/dpkg/status'), '');
  await execa('dpkg', [`--root=${root}`, '--log=/dev/null', '--force-script-chrootless', '--install', ...packages], {
    env: { LC_ALL: 'C', PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
  });
}

export function copyTreeTo(src: string, dest: string): void {
  cpSync(src, dest, { recursive: true, verbatimSymlinks: true });
}
